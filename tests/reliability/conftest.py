"""The reliability tests' figures: the fuzzer counts what it tried and the
terminal summary reports it, so docs/reliability.md can quote a run."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import pytest

# Examples per API operation in the fuzzing phase. Small by default so the
# fuzzer fits in `make test`; `make reliability` sets it high.
RELIABILITY_EXAMPLES = int(os.environ.get("RELIABILITY_EXAMPLES", "25"))


@dataclass
class FuzzStats:
    cases: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    by_operation_status: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


STATS_KEY = pytest.StashKey[FuzzStats]()


@pytest.fixture(scope="session")
def fuzz_stats(pytestconfig: pytest.Config) -> FuzzStats:
    return pytestconfig.stash.setdefault(STATS_KEY, FuzzStats())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    stats = terminalreporter.config.stash.get(STATS_KEY, None)
    if stats is None or not stats.cases:
        return
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(stats.by_status.items()))
    terminalreporter.write_sep("-", "API fuzzing (schemathesis)")
    terminalreporter.write_line(
        f"{stats.cases} cases over {len(stats.by_operation)} operations in "
        f"{stats.seconds:.0f} s (RELIABILITY_EXAMPLES={RELIABILITY_EXAMPLES}); "
        f"responses by status: {statuses}"
    )
    if "RELIABILITY_EXAMPLES" in os.environ:  # the long run: per operation too
        for label, n in sorted(stats.by_operation.items()):
            codes = {
                key.rsplit(" ", 1)[1]: count
                for key, count in stats.by_operation_status.items()
                if key.rsplit(" ", 1)[0] == label
            }
            terminalreporter.write_line(
                f"  {label}: {n} ({', '.join(f'{c}: {k}' for c, k in sorted(codes.items()))})"
            )
