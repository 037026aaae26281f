"""HTTP load: gunicorn started and stopped by pid, wrk on loopback with
bench/wrk.lua, and the workers' memory read from /proc while the load runs."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk.lua"
# A target slower than this is not hammered: sequential samples for c=1 and
# one longer wrk run for c=4 (as the peer harness does).
SLOW_S = 1.0


@dataclass
class Request:
    """One measured endpoint as wrk sends it."""

    name: str
    path: str
    method: str = "GET"
    cookie: str = ""
    auth: str = ""
    body: str = ""

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.auth:
            headers["Authorization"] = self.auth
        if self.method == "POST":
            headers["Content-Type"] = "application/json"
        return headers


@dataclass
class Settings:
    port: int = 8011
    workers: int = 4
    conc: int = 4
    duration: int = 10
    repeats: int = 3


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command may contain spaces and parentheses: fields follow the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def _ticks(pid: int, *, children: bool = False) -> int:
    """CPU time of a process in clock ticks (utime + stime, + its reaped children's)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[11:15]: utime, stime, cutime, cstime (man proc, fields 14-17)
    used = int(fields[11]) + int(fields[12])
    return used + int(fields[13]) + int(fields[14]) if children else used


def _machine_ticks() -> tuple[int, int]:
    """All CPUs' ticks since boot: (total, used by processes). Interrupt time (the
    loopback traffic) belongs to no process and is left out of the second."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # guest time is already counted in user
    return total, fields[0] + fields[1] + fields[2]  # user, nice, system


@dataclass
class CpuWatch:
    """How much of the machine processes other than this run used meanwhile:
    the busy ticks of all CPUs minus those of this process (with wrk, its reaped
    child), gunicorn and the database backends serving the run's database."""

    ours: Callable[[], list[int]]
    # Processes counted with their reaped children (e.g. another server's postmaster).
    trees: Callable[[], list[int]] = list
    start: tuple[int, int, int] = (0, 0, 0)

    def _sample(self) -> tuple[int, int, int]:
        total, busy = _machine_ticks()
        mine = _ticks(os.getpid(), children=True) + sum(_ticks(pid) for pid in self.ours())
        mine += sum(_ticks(pid, children=True) for pid in self.trees())
        return total, busy, mine

    def begin(self) -> None:
        self.start = self._sample()

    def other_share(self) -> float:
        total, busy, mine = self._sample()
        elapsed = max(1, total - self.start[0])
        return max(0.0, ((busy - self.start[1]) - (mine - self.start[2])) / elapsed)


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Gunicorn:
    """gunicorn serving the project with bench.settings (the floor route on)."""

    settings: Settings
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    rss_samples: dict[int, list[int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _sampler: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def command(self) -> list[str]:
        return [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "servicedesk.wsgi:application",
            "--workers",
            str(self.settings.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.settings.port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ]

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            self.command(),
            cwd=ROOT,
            env={**self.env, "DJANGO_SETTINGS_MODULE": "bench.settings"},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2).read()  # noqa: S310
                break
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"gunicorn did not answer; see {self.log_path}")
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def workers(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for pid in self.workers():
                self.rss_samples.setdefault(pid, []).append(_status_kb(pid, "VmRSS"))

    def memory(self) -> dict[str, Any]:
        """Per worker its high-water mark (VmHWM: the peak RSS of its life) and
        the largest RSS seen while sampling; the master's RSS."""
        workers = self.workers()
        peaks = {pid: _status_kb(pid, "VmHWM") for pid in workers}
        sampled = [max(values) for values in self.rss_samples.values() if values]
        pid = self.process.pid if self.process else 0
        return {
            "workers": len(workers),
            "worker_peak_rss_mb": round(max(peaks.values(), default=0) / 1024, 1),
            "worker_peak_rss_each_mb": [round(kb / 1024, 1) for kb in peaks.values()],
            "worker_max_sampled_rss_mb": round(max(sampled, default=0) / 1024, 1),
            "master_rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
            "samples": sum(len(values) for values in self.rss_samples.values()),
        }

    def stop(self) -> None:
        self._stop.set()
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)  # the master stops its workers
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


def once(base: str, request: Request) -> tuple[int, float, int]:
    """Status, seconds and size of one request."""
    data = request.body.encode() if request.method == "POST" else None
    http = urllib.request.Request(  # noqa: S310 (loopback, our own server)
        base + request.path, data=data, method=request.method, headers=request.headers()
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(http, timeout=300) as response:  # noqa: S310
            body, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return status, time.perf_counter() - started, len(body)


def wrk(base: str, request: Request, *, conc: int, seconds: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_COOKIE": request.cookie,
        "BENCH_AUTH": request.auth,
        "BENCH_METHOD": request.method,
        "BENCH_BODY": request.body,
    }
    command = [
        "wrk",
        "-t1",
        f"-c{conc}",
        f"-d{seconds}s",
        "--timeout",
        "120s",
        "-s",
        str(LUA),
        base + request.path,
    ]
    out = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, env=env, timeout=seconds + 180, check=False
    )
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON"):
            run: dict[str, Any] = json.loads(line.removeprefix("WRKJSON"))
            run["rps"] = round(run["requests"] / (run["duration_us"] / 1e6), 1)
            run["errors"] = sum(
                run[key] for key in ("err_status", "err_timeout", "err_connect", "err_read")
            )
            return run
    raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")


def _figures(run: dict[str, Any]) -> dict[str, float]:
    return {
        "p50_ms": round(run["p50_us"] / 1000, 2),
        "p95_ms": round(run["p95_us"] / 1000, 2),
        "rps": run["rps"],
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * share
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def measure(base: str, request: Request, settings: Settings) -> dict[str, Any]:
    """c=conc: a 3 s warm-up, then `repeats` wrk runs (medians reported); c=1:
    one wrk run of half the duration. Slow targets (over SLOW_S): c=1 from 5
    sequential requests, c=4 from one longer wrk run."""
    status, seconds, size = once(base, request)
    if status >= 300:
        return {"status": status, "error": f"HTTP {status}"}
    row: dict[str, Any] = {"status": status, "bytes": size, "single_ms": round(seconds * 1000, 1)}
    if seconds >= SLOW_S:
        samples = [seconds] + [once(base, request)[1] for _ in range(4)]
        row["mode"] = "slow: c=1 from 5 sequential requests, c=4 from one long wrk run"
        row["c1"] = {
            "p50_ms": round(statistics.median(samples) * 1000, 1),
            "p95_ms": round(percentile(samples, 0.95) * 1000, 1),
            "rps": round(1 / statistics.median(samples), 2),
        }
        long_run = wrk(
            base, request, conc=settings.conc, seconds=int(min(120, max(20, 8 * seconds)))
        )
        row["c4"], row["runs"], row["errors"] = _figures(long_run), [long_run], long_run["errors"]
        return row
    wrk(base, request, conc=settings.conc, seconds=3)  # warm-up, discarded
    runs = [
        wrk(base, request, conc=settings.conc, seconds=settings.duration)
        for _ in range(settings.repeats)
    ]
    single = wrk(base, request, conc=1, seconds=max(5, settings.duration // 2))
    row["mode"] = "wrk"
    row["c4"] = {
        "p50_ms": round(statistics.median(r["p50_us"] for r in runs) / 1000, 2),
        "p95_ms": round(statistics.median(r["p95_us"] for r in runs) / 1000, 2),
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "rps_min_max": [min(r["rps"] for r in runs), max(r["rps"] for r in runs)],
    }
    row["c1"] = _figures(single)
    row["runs"] = [*runs, single]
    row["errors"] = sum(r["errors"] for r in row["runs"])
    return row
