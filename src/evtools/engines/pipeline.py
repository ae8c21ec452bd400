"""The order of the package's SQL steps, stated once.

Every ``sql/<name>.sql`` declares, in its opening comment, the tables and views it reads (``-- reads: a, b``) and
the ones it makes or writes (``-- makes: x``). A pipeline is a list of step names run in order on one connection;
``check`` refuses one in which a step reads what neither the sources nor an earlier step make, so a query that
nothing makes cannot be read. The analyses run their SQL through ``run`` and the pipelines below; nothing else
decides the order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import pyarrow as pa

from evtools.engines.queries import arrow, execute, load_sql
from evtools.engines.queries import run as run_query

SOURCES = frozenset({"fact_events", "api_daily", "dashboard"})
_HEADER = re.compile(r"^-- (reads|makes): (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Step:
    """A query file and the tables it declares: ``reads`` must exist before it runs, ``makes`` exist after."""

    name: str
    reads: frozenset[str]
    makes: frozenset[str]


@cache
def step(name: str) -> Step:
    """The declared reads and makes of ``sql/<name>.sql``."""
    found: dict[str, set[str]] = {"reads": set(), "makes": set()}
    for kind, names in _HEADER.findall(load_sql(name)):
        found[kind].update(n.strip() for n in names.split(",") if n.strip())
    return Step(name, frozenset(found["reads"]), frozenset(found["makes"]))


class PipelineError(RuntimeError):
    """A pipeline whose steps read a table nothing makes before them (a defect of the package, not of the input)."""


def check(steps: list[str], given: frozenset[str] | set[str] = SOURCES) -> None:
    """Raise PipelineError when a step reads a table that is neither ``given`` nor made by an earlier step."""
    made = set(given)
    for name in steps:
        s = step(name)
        missing = s.reads - made
        if missing:
            raise PipelineError(f"sql/{name}.sql reads {', '.join(sorted(missing))}, which no earlier step makes")
        made |= s.makes


def made(steps: list[str], given: frozenset[str] | set[str] = SOURCES) -> frozenset[str]:
    """What exists after ``steps`` ran on top of ``given``."""
    out = set(given)
    for name in steps:
        out |= step(name).makes
    return frozenset(out)


def run(con: Any, steps: list[str], params: dict[str, Any] | None = None, given: frozenset[str] = SOURCES) -> None:
    """Run ``steps`` in order on ``con``, each with the parameters it names."""
    check(steps, given)
    for name in steps:
        execute(con, name, params)


def fetch(
    con: Any,
    steps: list[str],
    params: dict[str, Any] | None = None,
    given: frozenset[str] = SOURCES,
    as_arrow: bool = False,
) -> pd.DataFrame | pa.Table:
    """Run ``steps`` in order; the (small) result of the last one's last statement, as pandas or Arrow."""
    check(steps, given)
    for name in steps[:-1]:
        execute(con, name, params)
    return (arrow if as_arrow else run_query)(con, steps[-1], params)


# -- the pipelines -----------------------------------------------------------------------------------------------


# what the analyses read, made from one pass over every row of fact_events per table (the rows of repeated event
# ids, the per-key and arrival-lag groups, the loads) and from those: the per-key figures, the payloads' latest
# versions now, the replays, the per-key quality figures. Run once per state of the sources and kept
# (evtools.engines.digest), so a command after another on unchanged sources reads them all.
SHARED = [
    "repeated_rows",
    "key_lag",
    "loads",
    "quality_keys",
    "version_rows_now",
    "versions",
    "replays",
    "quality_versions",
    "quality_by_key",
]


def prepare(scoped: bool, dashboard: bool) -> list[str]:
    """What the analyses share: the rows in scope, their computation times, then the ``SHARED`` passes."""
    return [
        "facts_scope" if scoped else "facts_all",
        "dashboard_times" if dashboard else "no_dashboard_times",
        "fact_times",
        *SHARED,
    ]


# the arrival-lag curve alone (no computation times: lateness is not needed), as validate of one date reads it
LAG_CURVE = ["facts_all", "no_dashboard_times", "fact_times", "key_lag", "arrival_lag"]
QUALITY: list[str] = []  # the per-key quality figures are among the shared tables (SHARED); its results read them
QUALITY_RESULTS = ["quality_table", "arrival_lag", "replayed_loads", "quality_totals", "quality_worst"]
# (the versions as of each key's computation time, beside the versions now: _versions made again)
RECONCILE = ["version_rows_asof", "versions", "reconcile_repeated", "reconcile"]
RECONCILE_RESULTS = ["reconcile_summary", "reconcile_causes", "reconcile_worst"]


ZONES = "_zones"  # the candidate zones (zone, pos), a small table the client registers (reconcile.zone_table)


def timezones(candidates: bool) -> list[str]:
    """Day-bucketing: the candidate companies re-bucketed by each zone (of ``ZONES``), or an empty result."""
    return ["timezone_candidates", "timezone_rebucket"] if candidates else ["timezone_none"]


CLASSIFY = ["reconcile_classify"]
REFRESH_FULL = ["refresh_state", "refresh_full_repeated", "versions", "refresh_full_agg"]
# the incremental run (on a lakehouse, evtools.engines.lake binds the ranges of refresh_ranges into the lookup between
# the steps before it and the steps after it)
REFRESH_TOUCHED = ["refresh_new", "refresh_lookup", "refresh_version_rows", "versions", "refresh_delta", "refresh_apply"]
# the same where fact_events is parquet read by DuckDB (sources.LOCATED): the lookup in two halves, ids then rows
LOCATED = "_fact_events_located"
REFRESH_TOUCHED_LOCATED = ["refresh_new", "refresh_locate", "refresh_fetch", *REFRESH_TOUCHED[2:]]
REFRESH_BACKFILL = ["refresh_backfill_rows", "versions", "refresh_backfill"]
REFRESH_LOOKBACK = ["refresh_new", "refresh_lookback", "versions", "refresh_lookback_window", "refresh_lookback_apply"]
GX_AGG_TOTALS = ["gx_agg_version_rows", "versions", "gx_agg_totals"]
# every date at once: the latest versions of the repeated event ids' payloads (shared with the duplicates batch), per date
GX_AGG_TOTALS_ALL = ["gx_payloads_all", "gx_agg_version_rows_all", "versions", "gx_agg_totals_all"]
GX_SHARED = ["gx_payloads_all"]  # made once per validation of all dates, kept for every batch that reads it

REFRESH_SCRIPT = ["refresh_state", *REFRESH_FULL[1:], "refresh_set_state", "refresh_counts_full"]


def analysis(kind: str, dashboard: bool = True, zones: bool = False, loads: bool = True) -> list[str]:
    """Every step of an analysis over all keys, in order, its results last: what ``evtools sql --script`` prints
    (``zones``: day-bucketing by the candidate zones of ``ZONES``; ``loads``: fact_events has a load_id)."""
    if kind == "quality":
        results = [r for r in QUALITY_RESULTS if loads or r != "replayed_loads"]
        return prepare(False, dashboard) + QUALITY + results
    if kind == "reconcile":
        return prepare(False, dashboard) + RECONCILE + timezones(zones) + CLASSIFY + RECONCILE_RESULTS
    if kind == "refresh":
        return REFRESH_SCRIPT
    raise ValueError(f"no analysis named {kind!r}")


AGGREGATE = frozenset({"agg.evtools_state", "agg.evtools_runs", "agg.agg_company_daily_events"})
# what a refresh run's steps find made: the aggregate and its state tables (refresh_state.sql)
AGGREGATE_STATE = made(["refresh_state"]) | AGGREGATE
