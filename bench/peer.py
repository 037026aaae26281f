"""`make bench-peer`: django-helpdesk (its published PyPI package) measured by
the peer harness in ../shared/bench-peer, at the number of tickets of our last
`make bench`, then the side by side with ratios (printed, and added to
docs/benchmarks.md).

Follows the harness README: a virtualenv and a PostgreSQL 15 cluster on port
5433 under $HDBENCH_DIR (default $TMPDIR/hdbench), one database per size
(hd100k, ...) filled by gen_data.py, queries counted by count_queries.py and
the load run by loadtest.py with our workers, connections and durations. The
harness is only called, never copied or changed.

Environment: HDBENCH_DIR; BENCH_PEER_TICKETS (default: our last run's
tickets); BENCH_PEER_ONLY (the peer targets, comma list); BENCH_WORKERS,
BENCH_CONC, BENCH_DURATION, BENCH_REPEATS as for `make bench`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import load, report
from bench.run import DOC, render, wait_for_quiet

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT.parent / "shared" / "bench-peer"
RESULTS = ROOT / "bench" / "results"
VERSION = "2.6.1"
PACKAGES = [f"django-helpdesk=={VERSION}", "psycopg2-binary", "gunicorn"]
# The peer's counterparts of what we measure (see report.PEER_PAIRS).
TARGETS = "dt_default,ticket_detail,dashboard,api_list_open,api_list_all,api_create,ref_open25_raw"
PORT = 5433


def size_label(tickets: int) -> str:
    """hd100k, hd1m, hd12345: the harness's database naming."""
    if tickets % 1_000_000 == 0:
        return f"hd{tickets // 1_000_000}m"
    if tickets % 1000 == 0:
        return f"hd{tickets // 1000}k"
    return f"hd{tickets}"


class Harness:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.python = scratch / "venv" / "bin" / "python"
        env = {
            key: value
            for key, value in os.environ.items()
            # ours would win over the harness's setdefault()
            if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "VAR_DIR")
        }
        env.update(HDBENCH_DIR=str(scratch), PYTHONPYCACHEPREFIX=str(scratch / "pycache"))
        self.env = env

    def run(
        self, *command: str | Path, database: str = "", cwd: Path = HARNESS, capture: bool = False
    ) -> str:
        env = {**self.env, "PGDATABASE": database} if database else self.env
        print("bench-peer: " + " ".join(str(c) for c in command), flush=True)
        done = subprocess.run(  # noqa: S603
            [str(c) for c in command],
            cwd=cwd,
            env=env,
            check=not capture,
            text=True,
            capture_output=capture,
        )
        return done.stdout or ""

    def install(self) -> None:
        if self.python.exists():
            return
        self.scratch.mkdir(parents=True, exist_ok=True)
        base = "python3.11"
        self.run(base, "-m", "venv", self.scratch / "venv")
        self.run(self.python, "-m", "pip", "install", "--quiet", *PACKAGES)

    def start_postgres(self) -> bool:
        """The harness's cluster; True when this run started it (and stops it)."""
        if not (self.scratch / "pgdata" / "PG_VERSION").exists():
            self.run(HARNESS / "pg.sh", "init")
        if "server is running" in self.run(HARNESS / "pg.sh", "status", capture=True):
            return False
        self.run(HARNESS / "pg.sh", "start")
        self.run(
            self.python, "manage.py", "collectstatic", "--noinput", "-v0", cwd=HARNESS / "proj"
        )
        return True

    def postmaster(self) -> list[int]:
        pid_file = self.scratch / "pgdata" / "postmaster.pid"
        return [int(pid_file.read_text().split()[0])] if pid_file.exists() else []

    def postgres(self) -> list[int]:
        """The cluster's live processes (its backends serve the peer's gunicorn)."""
        return [pid for parent in self.postmaster() for pid in load.children(parent)]

    def tickets(self, database: str) -> int:
        """Tickets in the harness's database; -1 when it is missing."""
        try:
            with psycopg.connect(
                host="127.0.0.1", port=PORT, user="postgres", dbname=database, connect_timeout=5
            ) as conn:
                row = conn.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()
        except psycopg.Error:
            return -1
        return int(row[0]) if row else -1

    def dataset(self, database: str, tickets: int) -> None:
        if self.tickets(database) == tickets:
            return
        self.run(HARNESS / "setup_db.sh", database)
        self.run(self.python, "gen_data.py", "--tickets", str(tickets), database=database)


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def normalise(queries: list[dict[str, Any]], load: dict[str, Any]) -> dict[str, Any]:
    """The harness's two result files as our endpoint rows (c1 / c4 figures)."""
    counted = {row["name"]: row for row in queries}
    endpoints: dict[str, Any] = {}
    for row in load.get("targets", []):
        name = row["name"]
        rps = row.get("rps")
        endpoints[name] = {
            "path": row.get("path", ""),
            "queries": counted.get(name, {}).get("queries"),
            "inproc_ms": counted.get(name, {}).get("inproc_ms_median"),
            "mode": row.get("mode", row.get("error", "")),
            "bytes": row.get("bytes"),
            "c1": {"p50_ms": row.get("c1_p50_ms"), "p95_ms": row.get("c1_p95_ms")},
            "c4": {
                "p50_ms": row.get("p50_ms") if rps is not None else None,
                "p95_ms": row.get("p95_ms") if rps is not None else None,
                "rps": rps if rps is not None else row.get("rps_c1"),
            },
        }
    return endpoints


def main() -> int:
    ours: dict[str, Any] = {}
    if (RESULTS / "last.json").exists():
        ours = _load(RESULTS / "last.json")
    wanted = os.environ.get("BENCH_PEER_TICKETS")
    if not wanted and not ours:
        sys.exit("bench-peer: run `make bench` first (or set BENCH_PEER_TICKETS)")
    tickets = int(wanted) if wanted else int(ours["database"]["tickets"])
    method = ours.get("method", {})
    env = os.environ
    workers = env.get("BENCH_WORKERS", str(method.get("workers", 4)))
    conc = env.get("BENCH_CONC", str(method.get("conc", 4)))
    duration = env.get("BENCH_DURATION", str(method.get("duration", 10)))
    repeats = env.get("BENCH_REPEATS", str(method.get("repeats", 3)))
    only = env.get("BENCH_PEER_ONLY", TARGETS)
    scratch = Path(env.get("HDBENCH_DIR", Path(tempfile.gettempdir()) / "hdbench"))
    harness = Harness(scratch)
    harness.install()
    started = harness.start_postgres()
    database = size_label(tickets)
    out = scratch / "results"
    out.mkdir(parents=True, exist_ok=True)
    try:
        harness.dataset(database, tickets)
        queries_json, load_json = out / f"queries_{database}.json", out / f"load_{database}.json"
        harness.run(
            harness.python, "count_queries.py", "--repeat", "3", "--only", only,
            "--json", queries_json, database=database,
        )  # fmt: skip
        wait_for_quiet(int(env.get("BENCH_WAIT_QUIET", "600")))
        watch = load.CpuWatch(ours=lambda: harness.postgres(), trees=harness.postmaster)
        watch.begin()
        harness.run(
            harness.python, "loadtest.py", "--out", load_json, "--only", only,
            "--workers", workers, "--conc", conc, "--duration", duration,
            "--repeats", repeats, database=database,
        )  # fmt: skip
        other_cpu = watch.other_share()
        print(f"bench-peer: other processes used {other_cpu:.0%} of the CPU meanwhile")
    finally:
        if started:
            harness.run(HARNESS / "pg.sh", "stop")
    peer = {
        "version": VERSION,
        "tickets": tickets,
        "database": database,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "postgres": "PostgreSQL 15, shared_buffers 2GB, work_mem 16MB (pg.sh)",
        "other_cpu": round(other_cpu, 3),
        "endpoints": normalise(_load(queries_json), _load(load_json)),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"peer-{tickets}.json").write_text(json.dumps(peer, indent=1))
    same_size = RESULTS / f"run-{tickets}.json"
    if not same_size.exists():
        print(f"bench-peer: no run of ours at {tickets:,} tickets to compare with (make bench)")
        return 0
    print("\n".join(report.peer_table(_load(same_size), peer)))
    if ours:
        DOC.write_text(render(ours))
        print(f"bench-peer: wrote the side by side into {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
