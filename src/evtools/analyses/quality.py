"""Duplicates, replays, corrections and late appends per company and date, and the lookback they call for.

Definitions (the contract; the SQL in ``evtools/sql`` implements exactly these). The latest version of an event_id
(now, and as of T), a payload's first arrival, a row's arrival lag and computation time T, and the lookback window
are defined once, in ``evtools.core.rules``. Per (company_id, date):

- duplicate excess: over groups of rows with the same payload (event_id, company_id, date, events), the sum of
  (n - 1) * events; duplicate rows: the sum of (n - 1). A replay of a superseded version is a duplicate too.
- correction excess: (SUM of all rows) - (SUM of latest versions lying on the key) - duplicate excess: the events of
  the superseded versions lying on the key (superseded versions: their count).
- DISTINCT: ``SELECT DISTINCT company_id, date, event_id, events`` sums to total - duplicate excess, so by definition
  it still over-counts the latest versions by exactly the correction excess (``distinct_events`` in the result).
- replayed load: a load_id more than half of whose rows repeat a payload first ingested in another, earlier load;
  reported with its row count, share repeated and the events it adds (not measured without a load_id column).
- late row of a (company_id, date) with computation time T: ingested_at > T. Late events: their events. Unknown
  (NULL) where T is unknown; without any T (no dashboard times, no offset setting) the late totals are NULL and the
  summary says why.
- coverage(k): share of all events (sum over all rows) with arrival lag <= k. Recommended lookback: the smallest
  k >= 0 with coverage(k) >= coverage_target. Missed by the configured lookback k: the rows with arrival lag > k,
  which a daily run re-reading the last k dates never sees (see ``evtools.core.rules``).

Scale: an event_id ingested once is its own latest version and adds no excess, so the expensive work is one
aggregation over event_id that keeps only the ids seen more than once (``repeated_rows.sql``, bounded by DuckDB's
memory_limit, spilling if needed), one GROUP BY of every row by key, arrival lag and lateness (``key_lag.sql``) and
one by load; everything else runs on those few rows or on these groups. The three passes are kept beside the config
for the sources' present state (``evtools.engines.digest``): the next command on unchanged sources reads them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evtools.core.config import Config
from evtools.core.fsutil import atomic_dir, iso_date, write_parquet
from evtools.engines import digest, pipeline
from evtools.engines.queries import arrow, drop, execute, exists, first_row, run
from evtools.engines.sources import available_columns, has_source

log = logging.getLogger(__name__)

BY_KEY_COLUMNS = [
    "company_id",
    "date",
    "rows",
    "duplicate_rows",
    "duplicate_excess",
    "correction_excess",
    "superseded_versions",
    "late_rows",
    "late_events",
    "max_lag_days",
]
REPLAY_SHARE = 0.5  # "most of whose rows": more than this share


@dataclass(frozen=True)
class QualityResult:
    """What ``evtools quality`` computed: per-key figures, replayed loads, the arrival-lag curve, a summary.

    ``by_key`` has a row per company/date and stays an Arrow table (compact, straight from DuckDB); ``frame()``
    gives it as pandas for display.
    """

    by_key: pa.Table
    replayed_loads: pd.DataFrame
    arrival_lag: pd.DataFrame
    summary: dict = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        return self.by_key.to_pandas(date_as_object=False)

    def write(self, out: Path) -> list[Path]:
        """Write the four files into ``out`` (whole or not at all); return their paths."""
        with atomic_dir(out) as tmp:
            pq.write_table(self.by_key, tmp / "quality_by_company_date.parquet")
            write_parquet(self.replayed_loads, tmp / "replayed_loads.parquet")
            write_parquet(self.arrival_lag, tmp / "arrival_lag.parquet")
            (tmp / "summary.json").write_text(json.dumps(self.summary, indent=2, default=str) + "\n")
        names = [
            "quality_by_company_date.parquet",
            "replayed_loads.parquet",
            "arrival_lag.parquet",
            "summary.json",
        ]
        return [Path(out) / n for n in names]


@dataclass(frozen=True)
class Scope:
    """Which keys an analysis is for: a company (None: all) and a date range (None: open)."""

    company: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def everything(self) -> bool:
        return self.company is None and self.date_from is None and self.date_to is None

    def params(self) -> dict:
        return {"company": self.company, "date_from": self.date_from, "date_to": self.date_to}


EVERYTHING = Scope()


def prepare(con: duckdb.DuckDBPyConnection, config: Config, scope: Scope = EVERYTHING) -> None:
    """Build what quality and reconciliation share, for the rows ``scope`` needs (``pipeline.prepare``): the rows
    (``_facts``), their computation times (``_fact_t``) and the rows of repeated event ids (``_repeated_rows``).
    Skipped when the connection is already prepared for the same scope.
    """
    key = repr(scope)
    if exists(con, "_prepared") and first_row(con, "prepared_scope") == (key,):
        return
    for name in ("_facts", "_prepared", "_versions", *pipeline.made(pipeline.SHARED, frozenset())):
        drop(con, name)  # a table made here before, or a view over a cache entry
    params = {k: (str(v) if v is not None else None) for k, v in scope.params().items()}
    params["offset_hours"] = config.settings.dashboard_computed_offset_hours
    steps = prepared_steps(con, scope)
    if scope.everything:  # the shared passes over all rows: kept per state of the sources (engines.digest)
        sources = ("fact_events", "dashboard") if has_source(con, "dashboard") else ("fact_events",)
        digest.run_shared(con, config, steps, params, sources)
    else:
        pipeline.run(con, steps, params)
    execute(con, "prepared_mark", {"scope": key})


def prepared_steps(con: duckdb.DuckDBPyConnection, scope: Scope = EVERYTHING) -> list[str]:
    """The steps ``prepare`` runs for ``scope`` on ``con``'s sources."""
    return pipeline.prepare(not scope.everything, has_source(con, "dashboard"))


def analyse(con: duckdb.DuckDBPyConnection, config: Config) -> QualityResult:
    """All quality figures for the fact_events registered on ``con``."""
    prepare(con, config)
    pipeline.run(con, pipeline.QUALITY, given=pipeline.made(prepared_steps(con)))
    by_key = arrow(con, "quality_table")
    lag = run(con, "arrival_lag")
    measured = "load_id" in available_columns(con, "fact_events")
    if measured:
        loads = run(con, "replayed_loads", {"min_share": REPLAY_SHARE})
    else:
        loads = pd.DataFrame(columns=["load_id", "rows", "repeated_rows", "share_repeated", "events_added"])
    totals = run(con, "quality_totals").iloc[0].to_dict()
    worst = run(con, "quality_worst", {"n": 10})
    return QualityResult(by_key, loads, lag, summarise(totals, worst, loads, lag, config, measured))


def recommend_lookback(lag: pd.DataFrame, target: float) -> int | None:
    """The smallest k >= 0 with coverage(k) >= target (None when no lag reaches it)."""
    ok = lag[(lag["k"] >= 0) & (lag["coverage"] >= target - 1e-12)]
    return int(ok["k"].min()) if not ok.empty else None


def missed_by_lookback(lag: pd.DataFrame, k: int) -> tuple[int, int]:
    """Rows and events with lag > k: what a job re-reading k days back never sees."""
    late = lag[lag["k"] > k]
    return int(late["rows"].sum()), int(late["events"].sum())


def summarise(
    totals: dict,
    worst: pd.DataFrame,
    loads: pd.DataFrame,
    lag: pd.DataFrame,
    config: Config,
    replays_measured: bool = True,
) -> dict:
    """Totals, shares of all events, worst offenders and the lookback recommendation. A figure that could not be
    measured is None, with the reason beside it (``late_unknown_reason``, ``replays_measured``)."""
    totals = {
        k: (iso_date(v) if k.endswith("_date") else (None if pd.isna(v) else int(v))) for k, v in totals.items()
    }
    total = totals["total_events"] or 0
    share = {
        c: (totals[c] / total if total and totals[c] is not None else (None if totals[c] is None else 0.0))
        for c in ("duplicate_excess", "correction_excess", "late_events")
    }
    target = config.settings.coverage_target
    lookback = config.settings.lookback_days
    recommended = recommend_lookback(lag, target)
    missed_rows, missed_events = missed_by_lookback(lag, lookback)
    reread = lag.set_index("k")["rows_reread_per_run"] if not lag.empty else pd.Series(dtype=int)
    replay_events = int(loads["events_added"].sum()) if not loads.empty else 0
    unknown_t = totals["keys_without_t"]
    return {
        **totals,
        "late_unknown_reason": _late_reason(unknown_t, totals["keys"]),
        "share_of_events": share,
        "replays_measured": replays_measured,
        "replayed_loads": len(loads) if replays_measured else None,
        "replayed_rows": (int(loads["repeated_rows"].sum()) if not loads.empty else 0) if replays_measured else None,
        "replayed_events": replay_events if replays_measured else None,
        "share_of_duplicate_excess_from_replays": (
            (replay_events / totals["duplicate_excess"] if totals["duplicate_excess"] else 0.0)
            if replays_measured
            else None
        ),
        "coverage_target": target,
        "recommended_lookback_days": recommended,
        "configured_lookback_days": lookback,
        "configured_lookback_missed_rows": missed_rows,
        "configured_lookback_missed_events": missed_events,
        "configured_lookback_missed_share": missed_events / total if total else 0.0,
        "max_lag_days": int(lag["k"].max()) if not lag.empty else None,
        "rows_reread_per_run_configured": int(reread.get(lookback, 0)),
        "rows_reread_per_run_recommended": int(reread.get(recommended, 0))
        if recommended is not None
        else None,
        "worst_keys": worst.assign(date=worst["date"].map(iso_date)).to_dict(orient="records"),
    }


def _late_reason(keys_without_t: int, keys: int) -> str | None:
    """Why late rows are unknown for some or all keys (None when every key has a computation time)."""
    if not keys_without_t:
        return None
    fix = "map computed_at in [columns.dashboard] or set settings.dashboard_computed_offset_hours"
    if keys_without_t == keys:
        return f"no key has a dashboard computation time, so late rows are unknown; {fix}"
    return f"{keys_without_t:,} of {keys:,} keys have no dashboard computation time; their late rows are unknown"


def distinct_flaw_example(con: duckdb.DuckDBPyConnection, config: Config) -> pd.DataFrame:
    """The rows of one corrected event (preferring one that also has duplicates), showing what DISTINCT keeps.

    Columns: the rows' fields, ``kept_by_distinct`` (first of each (key, event_id, events) group) and
    ``is_latest_version``.
    """
    prepare(con, config)
    if not exists(con, "_versions"):
        pipeline.run(con, ["version_rows_now", "versions"], given=pipeline.made(prepared_steps(con)))
    return run(con, "distinct_flaw_example")


def worst_keys(result: QualityResult, n: int = 10) -> pd.DataFrame:
    """The ``n`` keys whose duplicates and corrections add the most events (from the summary)."""
    return pd.DataFrame(result.summary["worst_keys"]).head(n)
