"""Where the refresh's aggregate lives, and how a run's changes are committed, behind one interface.

``evtools.analyses.refresh`` holds the run's state machine once (the watermark, the mode of a run, its checks, its
record); a store runs a mode's steps where the aggregate lives and commits them whole:

- ``TableStore``: tables ``agg.*`` of the engine's own database (a DuckDB file, a schema of a SQL database); a run
  is one transaction.
- ``evtools.engines.lake.LakeStore`` (Spark): parquet partitioned by date under ``[engine] aggregate_path``; a run
  is committed by a marker file, and rolled forward by the next run when it stopped after it.

A store says which strategies it runs (``STRATEGIES``) and whether it rebuilds a span of dates (``BACKFILL``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from evtools.core.errors import EngineError, EvtoolsError
from evtools.engines import lake, pipeline
from evtools.engines.faults import fault
from evtools.engines.queries import execute, first_row, run


class TableStore:
    """The aggregate as tables ``agg.*`` of the engine's database, attached by ``Engine.aggregate``."""

    STRATEGIES = ("touched", "lookback")
    BACKFILL = True

    def __init__(self, engine):
        self.con = engine
        self.ENGINE = engine.name

    def state(self) -> tuple[str | None, dt.datetime | None]:
        """(strategy, watermark); (None, None) before the first build."""
        return first_row(self.con, "refresh_read_state") or (None, None)

    def next_run(self) -> int:
        return first_row(self.con, "refresh_next_run")[0]

    def commit(self):
        """The run's block: one transaction (rolled back when the block fails)."""
        return self.con.transaction()

    def full(self, params: dict) -> tuple:
        """Rebuild the aggregate from every row ingested by ``until``: (rows read, keys, dates)."""
        pipeline.run(self.con, pipeline.REFRESH_FULL[:-1], params)
        fault("after_latest")
        pipeline.run(
            self.con, pipeline.REFRESH_FULL[-1:], params, given=pipeline.made(pipeline.REFRESH_FULL[:-1])
        )
        return first_row(self.con, "refresh_counts_full")

    def touched(self, params: dict) -> tuple[tuple, tuple]:
        """Rewrite the keys whose latest versions the new rows change: ((missed rows, events), (rows, keys, dates))."""
        con = self.con
        located = con.exists(pipeline.LOCATED)
        steps = pipeline.REFRESH_TOUCHED_LOCATED if located else pipeline.REFRESH_TOUCHED
        given = pipeline.AGGREGATE_STATE | ({pipeline.LOCATED} if located else set())
        pipeline.run(con, steps[:1], params, given=given)
        missed = tuple(first_row(con, "refresh_missed", params))
        pipeline.run(con, steps[1:2], params, given=pipeline.made(steps[:1], given))
        fault("after_locate")  # between the located lookup's halves; after the one-pass lookup
        pipeline.run(con, steps[2:-1], params, given=pipeline.made(steps[:2], given))
        if located:
            _check_fetch(con)
        fault("before_apply")
        pipeline.run(con, steps[-1:], params, given=pipeline.made(steps[:-1], given))
        fault("after_apply")
        return missed, first_row(con, "refresh_counts")

    def lookback(self, params: dict) -> tuple[tuple, tuple]:
        """The fixed-window job: re-read the window's dates and deduplicate within them."""
        pipeline.run(self.con, pipeline.REFRESH_LOOKBACK, params, given=pipeline.AGGREGATE_STATE)
        missed = tuple(first_row(self.con, "refresh_missed", params))
        fault("after_apply")
        return missed, first_row(self.con, "refresh_counts_lookback")

    def backfill(self, params: dict) -> tuple:
        """Rebuild the keys of the dates $first..$last as of the watermark: (keys, dates)."""
        pipeline.run(self.con, pipeline.REFRESH_BACKFILL, params, given=pipeline.AGGREGATE_STATE)
        return tuple(first_row(self.con, "refresh_counts_backfill"))

    def set_state(self, strategy: str, watermark: dt.datetime | None, now: dt.datetime) -> None:
        execute(self.con, "refresh_set_state", {"strategy": strategy, "watermark": watermark, "now": now})

    def log_run(self, record: dict) -> None:
        """One row of ``agg.evtools_runs`` (``sql/refresh_log_run.sql`` names the fields), failed runs too."""
        execute(self.con, "refresh_log_run", record)


def _check_fetch(con) -> None:
    """EngineError when the two halves of the located lookup disagree: fact_events' files changed during the run."""
    places, fetched, foreign = first_row(con, "refresh_fetch_check")
    if places != fetched or foreign:
        raise EngineError(
            f"fact_events changed during the refresh: the lookup found {places:,} rows of the new rows' event ids "
            f"and then read {fetched:,} ({foreign:,} of other ids); a file was rewritten or replaced meanwhile. "
            "Run the refresh again (nothing was written)"
        )


@contextlib.contextmanager
def opened(engine, config, where: Path | str | None = None, wait: float = 0.0) -> Iterator:
    """The aggregate's store on ``engine``, held for one run (its lock taken; on a lake, an interrupted run's
    staging finished or discarded first)."""
    if engine.LAKE:
        if where:
            raise EvtoolsError("refresh --db: not available on the spark engine (the aggregate is [engine] aggregate_path)")
        with lake.opened(engine, config, wait) as store:
            yield store
        return
    with engine.aggregate(config, where, wait):
        yield TableStore(engine)


def verify(engine, config, where: Path | str | None = None) -> pd.DataFrame:
    """Keys where the aggregate differs from a full recomputation as of its watermark (empty when exact).

    The recomputation runs the full build's own steps into a scratch place the engine gives (a scratch database
    file; a schema inside a transaction rolled back; temporary views on a lake), so the incremental runs are checked
    against one pass over all rows, and nothing is written. What is checked is what the engine gives a consistent
    reader (``Engine.reading``): on DuckDB the database itself, held against a refresh meanwhile, or while one runs
    its last published snapshot, so a verification never sees a run half done."""
    if engine.LAKE:
        return lake.verify(engine, config)
    with engine.reading(config, where, hold=True) as db:
        with engine.aggregate(config, db, read_only=True) as place:
            _, watermark = TableStore(engine).state()
        if watermark is None:
            raise EvtoolsError(f"{place}: the aggregate has never been built; run evtools refresh first")
        with engine.scratch(config, db):
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            pipeline.run(engine, pipeline.REFRESH_FULL, {"until": watermark, "now": now})
            given = pipeline.made(pipeline.REFRESH_FULL) | {"live.agg_company_daily_events"}
            return pipeline.fetch(engine, ["refresh_verify"], given=given)


def read(engine, config, where: Path | str | None, query: str) -> pd.DataFrame:
    """A query over the aggregate as a reader sees it (on DuckDB: its snapshot): ``refresh_table`` (the table,
    ordered by key) or ``refresh_runs`` (one row per run)."""
    if engine.LAKE:
        return lake.read(engine, config, query)
    with engine.reading(config, where) as place, engine.aggregate(config, place, read_only=True):
        return run(engine, query)


def differences(db: Path, full: Path) -> pd.DataFrame:
    """Keys where the aggregate in the DuckDB file ``db`` differs from the one in ``full`` (a full build as of the same time)."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH $p AS live (READ_ONLY)", {"p": str(db)})
        con.execute("ATTACH $p AS agg (READ_ONLY)", {"p": str(full)})
        return pipeline.fetch(con, ["refresh_verify"], given={"live.agg_company_daily_events"} | pipeline.AGGREGATE_STATE)
    finally:
        con.close()
