"""Pure: the targets of issue 9 and their evaluation, docs/benchmarks.md and the
final `bench:` line, from the results dict bench.run writes (and, for the
side-by-side, the peer's figures bench.peer collects). No Django, no clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Results = dict[str, Any]

# Latency targets are judged on the c=1 run: one request at a time is the
# server's own time; at c=4 the four workers share two cores with PostgreSQL
# and wrk, so latency there includes waiting for a core (shown beside it).
LIST_P95_MS = 30.0
SEARCH_P95_MS = 100.0
DASHBOARD_MS = 1000.0
CREATE_PER_S = 300.0
FLOOR_SHARE = 0.5
SWEEP_IDLE_MS = 5.0
SWEEP_10K_S = 10.0
SWEEP_BULK = 10_000

LIST_ENDPOINTS = (
    "queue",
    "queue_open",
    "queue_breached",
    "queue_assignee",
    "api_list",
    "api_deep",
    "api_filtered",
)
SEARCH_ENDPOINTS = ("search", "api_search")
LINE_KEYS = (
    "queue_p95_ms",
    "api_list_p95_ms",
    "create_per_s",
    "sweep_idle_ms",
    "sweep_10k_s",
    "dashboard_ms",
    "floor_p95_ms",
)


def verdict(value: float | None, limit: float, *, higher_is_better: bool = False) -> str:
    """'met', or by how much the target is missed, in percent of the target."""
    if value is None:
        return "not measured"
    if higher_is_better:
        if value >= limit:
            return "met"
        return f"missed by {(1 - value / limit) * 100:.0f}%"
    if value <= limit:
        return "met"
    return f"missed by {(value / limit - 1) * 100:.0f}%"


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def figure(results: Results, name: str, run: str, key: str) -> float | None:
    """An endpoint's figure, e.g. figure(r, "queue", "c1", "p95_ms")."""
    value = results.get("endpoints", {}).get(name, {}).get(run, {}).get(key)
    return None if value is None else float(value)


def sweep_10k_seconds(results: Results) -> float | None:
    """Seconds for 10,000 announcements; scaled linearly when the data had fewer due."""
    bulk = results.get("sweeps", {}).get("bulk")
    if not bulk or not bulk.get("announcements"):
        return None
    return float(bulk["seconds"]) * SWEEP_BULK / bulk["announcements"]


def floor_share(results: Results, name: str = "api_list") -> float | None:
    ours, floor = figure(results, name, "c4", "rps"), figure(results, "floor", "c4", "rps")
    if ours is None or not floor:
        return None
    return ours / floor


@dataclass(frozen=True)
class Target:
    label: str
    limit: float
    unit: str
    value: Callable[[Results], float | None]
    higher_is_better: bool = False

    def judge(self, results: Results) -> dict[str, Any]:
        value = self.value(results)
        return {
            "target": self.label,
            "limit": ("≥ " if self.higher_is_better else "≤ ") + f"{fmt(self.limit)} {self.unit}",
            "measured": None if value is None else round(value, 3),
            "unit": self.unit,
            "verdict": verdict(value, self.limit, higher_is_better=self.higher_is_better),
        }


def _p95(name: str) -> Callable[[Results], float | None]:
    return lambda results: figure(results, name, "c1", "p95_ms")


def _sweep_idle(results: Results) -> float | None:
    idle = results.get("sweeps", {}).get("idle")
    return None if not idle else float(idle["ms"])


def targets(results: Results) -> list[Target]:
    def label(name: str) -> str:
        return results.get("endpoints", {}).get(name, {}).get("label", name)

    return [
        *(Target(f"{label(n)}: p95", LIST_P95_MS, "ms", _p95(n)) for n in LIST_ENDPOINTS),
        Target(
            "API list throughput, share of the floor's",
            FLOOR_SHARE,
            "x floor",
            floor_share,
            higher_is_better=True,
        ),
        Target(
            "Ticket creation (API)",
            CREATE_PER_S,
            "per s",
            lambda r: figure(r, "api_create", "c4", "rps"),
            higher_is_better=True,
        ),
        Target("SLA sweep, nothing due", SWEEP_IDLE_MS, "ms", _sweep_idle),
        Target("SLA sweep, 10,000 due", SWEEP_10K_S, "s", sweep_10k_seconds),
        Target(f"{label('dashboard')}: p95", DASHBOARD_MS, "ms", _p95("dashboard")),
        *(Target(f"{label(n)}: p95", SEARCH_P95_MS, "ms", _p95(n)) for n in SEARCH_ENDPOINTS),
    ]


def evaluate(results: Results) -> list[dict[str, Any]]:
    return [target.judge(results) for target in targets(results)]


def endpoint_target(name: str) -> tuple[float, str] | None:
    """The latency target an endpoint's row is judged by, if any."""
    if name in LIST_ENDPOINTS:
        return LIST_P95_MS, "ms"
    if name in SEARCH_ENDPOINTS:
        return SEARCH_P95_MS, "ms"
    if name == "dashboard":
        return DASHBOARD_MS, "ms"
    return None


def line_values(results: Results) -> dict[str, float | None]:
    return {
        "queue_p95_ms": figure(results, "queue", "c1", "p95_ms"),
        "api_list_p95_ms": figure(results, "api_list", "c1", "p95_ms"),
        "create_per_s": figure(results, "api_create", "c4", "rps"),
        "sweep_idle_ms": _sweep_idle(results),
        "sweep_10k_s": sweep_10k_seconds(results),
        "dashboard_ms": figure(results, "dashboard", "c1", "p95_ms"),
        "floor_p95_ms": figure(results, "floor", "c1", "p95_ms"),
    }


def _plain(value: float | None) -> str:
    if value is None:
        return "na"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def bench_line(results: Results) -> str:
    values = line_values(results)
    return "bench: " + " ".join(f"{key}={_plain(values[key])}" for key in LINE_KEYS)


# --- docs/benchmarks.md ---------------------------------------------------------------


def _table(header: list[str], rows: list[list[Any]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += [
        "| " + " | ".join(c if isinstance(c, str) else fmt(c) for c in r) + " |" for r in rows
    ]
    return lines


def _environment(results: Results) -> list[str]:
    machine, versions = results.get("machine", {}), results.get("versions", {})
    pg = results.get("postgres_settings", {})
    rows = [[key, str(value)] for key, value in machine.items()]
    rows += [[key, str(value)] for key, value in versions.items()]
    if pg:
        rows.append(["PostgreSQL settings", ", ".join(f"{k}={v}" for k, v in pg.items())])
    return ["## Machine and versions", "", *_table(["item", "value"], rows, "ll"), ""]


def _data(results: Results) -> list[str]:
    data = results.get("database", {})
    rows = [[key.replace("_", " "), value] for key, value in data.items()]
    return ["## Data", "", *_table(["", "value"], rows, "lr"), ""]


def _method(results: Results) -> list[str]:
    method = results.get("method", {})
    lines = ["## Method", "", method.get("text", ""), ""]
    if results.get("remeasured"):
        lines += ["Measured again (`--only ... --merge`, the rest from the run above): "
                  + "; ".join(results["remeasured"]) + ".", ""]  # fmt: skip
    return lines


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _endpoint_verdict(name: str, row: dict[str, Any]) -> str:
    target = endpoint_target(name)
    if target is None:
        return ""
    limit, unit = target
    value = (row.get("c1") or {}).get("p95_ms")
    return f"≤ {fmt(limit)} {unit}: {verdict(value, limit)}"


def _figures(results: Results) -> list[str]:
    rows = []
    for name, row in results.get("endpoints", {}).items():
        c4, c1 = row.get("c4") or {}, row.get("c1") or {}
        label = f"{row.get('label', name)}<br>`{row.get('method', 'GET')} {row.get('path', '')}`"
        if row.get("error"):
            rows.append([label, row.get("queries"), row["error"], *[""] * 7])
            continue
        rows.append(
            [
                label,
                row.get("queries"),
                c4.get("p50_ms"),
                c4.get("p95_ms"),
                c4.get("rps"),
                c1.get("p50_ms"),
                c1.get("p95_ms"),
                row.get("bytes"),
                _endpoint_verdict(name, row),
                _share(row.get("other_cpu")),
            ]
        )
    header = [
        "endpoint",
        "queries",
        "p50 ms c=4",
        "p95 ms c=4",
        "req/s c=4",
        "p50 ms c=1",
        "p95 ms c=1",
        "bytes",
        "target (p95, c=1)",
        "other CPU",
    ]
    note = (
        "*other CPU*: the share of the machine that processes other than this run "
        "(server, database backends, wrk) used while the endpoint was measured; above a "
        "few percent the figures of that row are low."
    )
    return ["## Figures", "", *_table(header, rows, "lrrrrrrrlr"), "", note, ""]


def _sweeps(results: Results) -> list[str]:
    sweeps = results.get("sweeps", {})
    lines = ["## SLA sweep (`tickets.sla_sweep`, in-process, explicit `now`)", ""]
    idle, bulk = sweeps.get("idle"), sweeps.get("bulk")
    rows = []
    if idle:
        rows.append(
            [
                "nothing due (median of the runs)",
                idle["ms"],
                "ms",
                idle.get("queries"),
                f"{idle.get('runs')} runs at `now` = {idle.get('now')}",
            ]
        )
    if bulk:
        note = (
            f"{fmt(bulk['announcements'])} announcements ({fmt(bulk.get('breaches'))} breaches, "
            f"{fmt(bulk.get('warnings'))} warnings) on {fmt(bulk.get('tickets'))} tickets, "
            f"{bulk.get('runs')} consecutive `sla_sweep` runs "
            "(each up to 40 batches of 500 per kind), "
            f"`now` = {bulk.get('now')}; restored afterwards"
        )
        rows.append(["everything due at once", bulk["seconds"], "s", bulk.get("queries"), note])
        scaled = sweep_10k_seconds(results)
        if bulk["announcements"] != SWEEP_BULK and scaled is not None:
            rows.append(["scaled to 10,000 announcements", scaled, "s", "", "linear"])
    lines += _table(["run", "time", "unit", "queries", "what"], rows, "lrlrl")
    return [*lines, ""]


def _memory(results: Results) -> list[str]:
    memory = results.get("memory", {})
    if not memory:
        return []
    return [
        "## Memory",
        "",
        f"Peak RSS of a gunicorn worker over the whole load (VmHWM, the largest of "
        f"{memory.get('workers')} workers): **{fmt(memory.get('worker_peak_rss_mb'))} MB** "
        f"(each: {', '.join(fmt(v) for v in memory.get('worker_peak_rss_each_mb', []))} MB; "
        f"largest sampled VmRSS {fmt(memory.get('worker_max_sampled_rss_mb'))} MB over "
        f"{fmt(memory.get('samples'))} samples every 0.5 s). Master: "
        f"{fmt(memory.get('master_rss_mb'))} MB. seed_bulk prints its own peak.",
        "",
    ]


def queries_grow(results: Results, others: list[Results]) -> list[str]:
    """Endpoints whose query count differs between the data sizes measured."""
    grown = []
    for name, row in results.get("endpoints", {}).items():
        counts = {row.get("queries")} | {
            other.get("endpoints", {}).get(name, {}).get("queries") for other in others
        }
        if len(counts - {None}) > 1:
            grown.append(row.get("label", name))
    return grown


def _constant_queries(results: Results, others: list[Results]) -> list[str]:
    sizes = sorted(
        {results.get("database", {}).get("tickets", 0)}
        | {other.get("database", {}).get("tickets", 0) for other in others}
    )
    if len(sizes) < 2:
        return ["Queries per request do not grow with the data", "same at every size",
                "one size measured", "needs a run at a second size"]  # fmt: skip
    grown = queries_grow(results, others)
    measured = " and ".join(fmt(size) for size in sizes) + " tickets"
    if not grown:
        return ["Queries per request do not grow with the data", "same at every size",
                measured, "met"]  # fmt: skip
    return ["Queries per request do not grow with the data", "same at every size", measured,
            "missed: " + ", ".join(grown)]  # fmt: skip


def _targets(results: Results, others: list[Results] | None = None) -> list[str]:
    rows = [
        [
            row["target"],
            row["limit"],
            "-" if row["measured"] is None else f"{fmt(row['measured'])} {row['unit']}",
            row["verdict"],
        ]
        for row in evaluate(results)
    ]
    rows.append(_constant_queries(results, others or []))
    lines = ["## Targets", ""]
    tickets = results.get("database", {}).get("tickets")
    lines.append(
        "The targets are set for 1,000,000 tickets (100,000 unclosed) on 2 cores; this run "
        f"had {fmt(tickets)} tickets. Latencies are the c=1 p95 (the server's own time)."
    )
    lines.append("")
    return [*lines, *_table(["target", "limit", "measured", "verdict"], rows, "llrl"), ""]


def _sizes(results: Results, others: list[Results]) -> list[str]:
    """Queries per request at each data size measured: they must not grow."""
    runs = sorted([results, *others], key=lambda r: r.get("database", {}).get("tickets", 0))
    if len(runs) < 2:
        return []
    names = list(results.get("endpoints", {}))
    header = ["endpoint", *(fmt(r.get("database", {}).get("tickets")) + " tickets" for r in runs)]
    rows = []
    for name in names:
        counts = [r.get("endpoints", {}).get(name, {}).get("queries") for r in runs]
        label = results["endpoints"][name].get("label", name)
        rows.append([label, *counts])
    lines = ["## Queries per request by data size", ""]
    lines += _table(header, rows)
    lines += ["", "p95 (c=1) and the bench line per size:", ""]
    lines += _table(
        ["tickets", "bench line"],
        [[fmt(r.get("database", {}).get("tickets")), f"`{bench_line(r)}`"] for r in runs],
        "rl",
    )
    return [*lines, ""]


# Ours and the peer's endpoint that do the same job.
PEER_PAIRS = (
    ("staff ticket list, first 25-50 rows", "queue", "dt_default"),
    ("ticket page", "ticket", "ticket_detail"),
    ("dashboard", "dashboard", "dashboard"),
    ("API list, open tickets", "api_filtered", "api_list_open"),
    ("API list, no filter", "api_list", "api_list_all"),
    ("API create", "api_create", "api_create"),
    ("floor: 25 rows by one raw query", "floor", "ref_open25_raw"),
)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def peer_rows(results: Results, peer: Results) -> list[dict[str, Any]]:
    """Per pair: both sides' c=1 p50, c=4 req/s and queries; the latency ratio
    (theirs / ours: how many times faster we are) and the throughput ratio
    (ours / theirs)."""
    rows = []
    theirs_all = peer.get("endpoints", {})
    for what, ours_name, theirs_name in PEER_PAIRS:
        ours = results.get("endpoints", {}).get(ours_name, {})
        theirs = theirs_all.get(theirs_name, {})
        if not ours or not theirs:
            continue
        ours_p50 = (ours.get("c1") or {}).get("p50_ms")
        theirs_p50 = (theirs.get("c1") or {}).get("p50_ms")
        ours_rps = (ours.get("c4") or {}).get("rps")
        theirs_rps = (theirs.get("c4") or {}).get("rps")
        rows.append(
            {
                "what": what,
                "ours": ours.get("path", ""),
                "theirs": theirs.get("path", ""),
                "ours_p50_ms": ours_p50,
                "theirs_p50_ms": theirs_p50,
                "ours_rps": ours_rps,
                "theirs_rps": theirs_rps,
                "ours_queries": ours.get("queries"),
                "theirs_queries": theirs.get("queries"),
                "faster": _ratio(theirs_p50, ours_p50),
                "throughput": _ratio(ours_rps, theirs_rps),
            }
        )
    return rows


def _times(value: float | None) -> str:
    return "-" if value is None else f"{fmt(value)}x"


def peer_table(results: Results, peer: Results) -> list[str]:
    rows = [
        [
            f"{row['what']}<br>ours `{row['ours']}`<br>theirs `{row['theirs'][:60]}`",
            row["ours_p50_ms"],
            row["theirs_p50_ms"],
            _times(row["faster"]),
            row["ours_rps"],
            row["theirs_rps"],
            _times(row["throughput"]),
            row["ours_queries"],
            row["theirs_queries"],
        ]
        for row in peer_rows(results, peer)
    ]
    header = [
        "endpoint",
        "ours p50 ms c=1",
        "theirs p50 ms c=1",
        "latency: theirs / ours",
        "ours req/s c=4",
        "theirs req/s c=4",
        "throughput: ours / theirs",
        "ours queries",
        "theirs queries",
    ]
    return _table(header, rows)


def _peer(ours: Results, peer: Results) -> list[str]:
    return [
        f"## Side by side with django-helpdesk ({fmt(peer.get('tickets'))} tickets)",
        "",
        f"django-helpdesk {peer.get('version', '')} from PyPI, {fmt(peer.get('tickets'))} "
        f"tickets, measured by `make bench-peer` on {peer.get('when', '')} with the peer "
        "harness (`../shared/bench-peer`): its own PostgreSQL cluster on port 5433 "
        f"({peer.get('postgres', '')}), gunicorn with the same number of sync workers, wrk "
        "with the same connections and durations. Ours: the run of "
        f"{ours.get('when', '')} at the same size. Ratios above 1 are in our favour. A slow "
        "peer endpoint has c=1 from sequential requests and c=4 from one long run (or, "
        "when slower than 20 s, an estimate from the sequential requests). Other processes "
        f"used {_share(peer.get('other_cpu'))} of the machine during the peer's load.",
        "",
        *peer_table(ours, peer),
        "",
    ]


def markdown(
    results: Results,
    *,
    others: list[Results] | None = None,
    peers: list[tuple[Results, Results]] | None = None,
) -> str:
    database = results.get("database", {})
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` on {results.get('when', '')} against the database "
        f"`{database.get('name', '')}` ({fmt(database.get('tickets'))} tickets). Rerun: "
        "`make bench` (see the README's Benchmarks section); `make bench-peer` adds the "
        "side-by-side with django-helpdesk. Raw figures: `bench/results/`.",
        "",
        *_environment(results),
        *_data(results),
        *_method(results),
        *_figures(results),
        *_sweeps(results),
        *_memory(results),
        *_targets(results, others),
        *_sizes(results, others or []),
        *(line for ours, peer in peers or [] for line in _peer(ours, peer)),
        *results.get("notes", []),
        "",
        bench_line(results),
    ]
    return "\n".join(lines) + "\n"
