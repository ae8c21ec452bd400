"""An exact, incremental, materialised daily aggregate: ``agg_company_daily_events``.

The table holds, per (company_id, date), ``events`` = the sum of the latest versions (``evtools.core.rules``) of the
events lying on that key and ``rows`` = how many latest versions that is, as of the watermark (the largest
ingested_at processed): it always equals a full recomputation as of the watermark (``verify`` rebuilds one with the
full build's own steps and compares).

Strategies:
- touched (default): the rows ingested since the watermark, and the rows ingested before of the same event ids,
  looked up in fact_events itself, decide each touched event's latest version before and after the run; only the
  keys where those differ are rewritten, on whatever date they lie (a correction can move an event to another
  date). No copy of the history is kept: the lookup reads fact_events where it lies, and the engine skips the files
  and row groups whose statistics hold none of the new rows' event ids, so its cost follows the new rows and the
  parts of fact_events their ids can lie in (time-ordered ids: the recent part; random ids: the event_id column
  once). On DuckDB over parquet files it runs in two halves: the places (file, row) of those ids' rows, reading the
  event_id column alone, then the other columns of the row groups holding them; a file rewritten in between fails
  the run.
- lookback: the fixed-window job: re-read the dates of the window (``evtools.core.rules.lookback_since``) and
  deduplicate within them, kept to show what it misses: rows arriving for older dates.

The full build reads fact_events once for the totals per key and once for the event ids seen more than once, and
applies the rule to those rows only. Every run is one transaction: a run that fails or is killed leaves the table and
the watermark as they were; a second refresh waits for the lock or fails with a clear message; a run with nothing new
changes nothing. The watermark never passes the run's until nor the run's start (``clamp_until``). Each run
publishes a read-only snapshot beside the database (``snapshot_path``), switched in whole, which readers open while
a later run writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from evtools.core.config import Config
from evtools.core.errors import EvtoolsError
from evtools.core.rules import lookback_since
from evtools.engines import base as engines
from evtools.engines import connect, store
from evtools.engines.faults import FAULT_ENV  # noqa: F401  (the test seam's variable, named where users look)
from evtools.engines.queries import first_row

log = logging.getLogger(__name__)
STRATEGIES = ("touched", "lookback")


@dataclass(frozen=True)
class RunResult:
    run_id: int
    strategy: str
    mode: str  # full | incremental | noop | backfill
    watermark_before: dt.datetime | None
    watermark_after: dt.datetime | None
    rows_read: int
    keys_changed: int
    dates_recomputed: int
    missed_by_lookback_rows: int
    missed_by_lookback_events: int
    seconds: float
    waiting_rows: int = 0  # rows ingested after the run's until: a later run takes them
    future_rows: int = (
        0  # among them, rows whose ingested_at is later than the run's start (a wrong clock or value)
    )


def clamp_until(con, until: dt.datetime | None, now: dt.datetime) -> tuple[dt.datetime, int, int]:
    """The run's until, and the rows it leaves for later: (until, waiting rows, future rows).

    ``until`` later than ``now`` is refused (rows ingested later have not arrived yet); by default it is the newest
    ingested_at not later than now, so a row stamped in the future (9999-12-31) never carries the watermark past
    now. Rows ingested after until wait for a later run; those stamped after now are "from the future"."""
    if until is not None and until > now:
        raise EvtoolsError(
            f"refresh --until {until}: later than now ({now:%Y-%m-%d %H:%M:%S} UTC); rows ingested after now "
            "have not arrived yet"
        )
    if until is None:
        for after in (now - dt.timedelta(days=7), dt.datetime(1, 1, 1)):
            until = first_row(con, "newest_ingested_by", {"after": after, "until": now})[0]
            if until is not None:
                break
    waiting, future, newest = first_row(con, "future_rows", {"until": until or now, "now": now})
    if until is None:
        held = f"its {future:,} rows are all stamped after now (newest {newest})" if future else "it is empty"
        raise EvtoolsError(f"fact_events has no row ingested by now ({held}): nothing to refresh")
    return until, int(waiting), int(future)


def refresh(
    config: Config,
    db: Path | str | None = None,
    until: dt.datetime | None = None,
    strategy: str = "touched",
    full: bool = False,
    lookback_days: int | None = None,
    backfill: tuple[dt.date, dt.date] | None = None,
    wait: float = 0.0,
    con=None,
) -> RunResult:
    """One refresh run of the aggregate where the config's engine keeps it: on DuckDB a database file ``db``
    (default: settings.aggregate_db), on the sql engine a schema of the database (default: ``[engine] schema``), on
    Spark parquet under ``[engine] aggregate_path``; ``con``: an open session of the config's engine (default: one
    opened, and closed after the run)."""
    if strategy not in STRATEGIES:
        raise EvtoolsError(f"refresh --strategy: expected one of {', '.join(STRATEGIES)}, found '{strategy}'")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    lookback = config.settings.lookback_days if lookback_days is None else lookback_days
    with _session(config, con) as engine:
        until, waiting, future = clamp_until(engine, until, now)
        with store.opened(engine, config, db, wait) as place:
            result = _run(place, strategy, full, lookback, until, backfill)
    return replace(result, waiting_rows=waiting, future_rows=future)


@contextlib.contextmanager
def _session(config: Config, con=None, check: bool = True):
    """``con`` as an engine, or a session on the config's engine opened for the block."""
    if con is not None:
        yield engines.of(con)
        return
    engine = engines.of(connect.open_engine(config, names=("fact_events",), check=check))
    try:
        yield engine
    finally:
        engine.close()


def _run(place, strategy, full, lookback, until, backfill) -> RunResult:
    """The run's state machine, the same on every engine: the mode from the state and the request, the mode's steps
    in the store (``evtools.engines.store``), the new state and the run's record committed with them."""
    if strategy not in place.STRATEGIES:
        raise EvtoolsError(
            f"refresh --strategy {strategy}: not available on the {place.ENGINE} engine (strategy "
            f"{', '.join(place.STRATEGIES)} only)"
        )
    if backfill and not place.BACKFILL:
        raise EvtoolsError(f"refresh --from/--to: not available on the {place.ENGINE} engine (no backfill)")
    start = time.perf_counter()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    before_strategy, watermark = place.state()
    if watermark is not None and until < watermark and not full:
        raise EvtoolsError(
            f"refresh --until {until}: before the watermark {watermark}; use --full to rebuild"
        )
    if before_strategy and before_strategy != strategy and not full:
        raise EvtoolsError(
            f"the aggregate was built with strategy '{before_strategy}'; rebuild with --full to switch to '{strategy}'"
        )
    mode = "full" if full or watermark is None else ("backfill" if backfill else "incremental")
    missed = (0, 0)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = place.next_run()
    rows_read = keys = dates = 0
    if mode == "incremental" and until == watermark:
        mode = "noop"
    params = {"until": until, "watermark": watermark, "since": lookback_since(until, lookback), "now": now}
    try:
        with place.commit():
            if mode == "full":
                rows_read, keys, dates = place.full(params)
            elif mode == "backfill":
                span = {"first": backfill[0], "last": backfill[1], "watermark": watermark, "now": now}
                keys, dates = place.backfill(span)
            elif mode == "incremental" and strategy == "touched":
                missed, (rows_read, keys, dates) = place.touched(params)
            elif mode == "incremental":
                missed, (rows_read, keys, dates) = place.lookback(params)
            new_watermark = watermark if mode in ("noop", "backfill") else until
            place.set_state(strategy, new_watermark, now)
            result = RunResult(
                run_id,
                strategy,
                mode,
                watermark,
                new_watermark,
                int(rows_read or 0),
                int(keys or 0),
                int(dates or 0),
                int(missed[0]),
                int(missed[1]),
                round(time.perf_counter() - start, 3),
            )
            place.log_run(_record(result, started, until, "ok", None))
    except BaseException as e:
        failed = RunResult(
            run_id, strategy, mode, watermark, watermark, 0, 0, 0, 0, 0, round(time.perf_counter() - start, 3)
        )
        with contextlib.suppress(Exception):  # the run's own error is the one to raise, on any engine
            place.log_run(_record(failed, started, until, "failed", f"{type(e).__name__}: {e}"[:500]))
        raise
    return result


def _record(r: RunResult, started, until, status: str, error: str | None) -> dict:
    """The run's record (``sql/refresh_log_run.sql`` names its fields)."""
    return {
        "id": r.run_id,
        "start": started,
        "end": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "strategy": r.strategy,
        "mode": r.mode,
        "wb": r.watermark_before,
        "wa": r.watermark_after,
        "until": until,
        "rows": r.rows_read,
        "keys": r.keys_changed,
        "dates": r.dates_recomputed,
        "mr": r.missed_by_lookback_rows,
        "me": r.missed_by_lookback_events,
        "status": status,
        "error": error,
    }


def verify(config: Config, db: Path | str | None = None, con=None) -> pd.DataFrame:
    """Keys where the aggregate differs from a full recomputation as of its watermark (empty when exact); see
    ``evtools.engines.store.verify``: the full build's own steps into a scratch place, nothing written."""
    with _session(config, con) as engine:
        return store.verify(engine, config, db)


def differences(db: Path, full: Path) -> pd.DataFrame:
    """Keys where the aggregate in the DuckDB file ``db`` differs from the one in ``full`` (a full build as of the
    same time): ``evtools.engines.store.differences``."""
    return store.differences(db, full)


def table(config: Config, db: Path | str | None = None, con=None) -> pd.DataFrame:
    """The aggregate as a frame (for small data and tests), ordered by key, as a reader sees it (on DuckDB: its
    snapshot)."""
    return _read(config, db, con, "refresh_table")


def runs(config: Config, db: Path | str | None = None, con=None) -> pd.DataFrame:
    """One row per refresh run, as a reader sees them (on DuckDB: from the snapshot)."""
    return _read(config, db, con, "refresh_runs")


def _read(config: Config, db, con, query: str) -> pd.DataFrame:
    with _session(config, con, check=False) as engine:
        return store.read(engine, config, db, query)


@dataclass(frozen=True)
class Replay:
    """A day-by-day replay of the ingestion timeline with both strategies (one row per day) and its summary."""

    days: pd.DataFrame
    summary: dict


def replay(
    config: Config,
    first: dt.date | None = None,
    last: dt.date | None = None,
    lookback_days: int | None = None,
    folder: Path | None = None,
    span_days: int = 30,
) -> Replay:
    """Refresh once per day from ``first`` to ``last`` (until = that day's midnight; default: the ``span_days`` days up
    to the newest ingestion day) with both strategies, rebuild in full each day for comparison, and check both tables
    against a full recomputation after every run."""
    import tempfile

    lookback = config.settings.lookback_days if lookback_days is None else lookback_days
    if last is None:
        con = connect.open_engine(config, names=("fact_events",), check=False)
        last = first_row(con, "newest_ingested")[0].date()
    first = first or last - dt.timedelta(days=span_days - 1)
    folder = Path(folder or tempfile.mkdtemp(prefix="evtools-replay-"))
    dbs = {name: folder / f"{name}.duckdb" for name in ("touched", "lookback", "full")}
    for db in dbs.values():
        db.unlink(missing_ok=True)
    records = []
    day = first
    while day <= last:
        until = dt.datetime.combine(day, dt.time())
        exact = refresh(config, dbs["touched"], until=until)
        fixed = refresh(config, dbs["lookback"], until=until, strategy="lookback", lookback_days=lookback)
        full = refresh(config, dbs["full"], until=until, full=True)
        exact_diff = differences(dbs["touched"], dbs["full"])
        fixed_diff = differences(dbs["lookback"], dbs["full"])
        gap = fixed_diff["full_events"].fillna(0) - fixed_diff["table_events"].fillna(0)
        records.append(
            {
                "until": until,
                "mode": exact.mode,
                "new_rows": exact.rows_read,
                "touched_seconds": exact.seconds,
                "lookback_seconds": fixed.seconds,
                "full_seconds": full.seconds,
                "touched_keys_changed": exact.keys_changed,
                "touched_dates": exact.dates_recomputed,
                "touched_differing_keys": len(exact_diff),
                "lookback_differing_keys": len(fixed_diff),
                "lookback_missing_events": int(gap.sum()),
                "dropped_by_window_rows": fixed.missed_by_lookback_rows,
                "dropped_by_window_events": fixed.missed_by_lookback_events,
            }
        )
        day += dt.timedelta(days=1)
    frame = pd.DataFrame(records)
    inc = frame[frame["mode"] == "incremental"]
    total_events = int(table(config, dbs["touched"])["events"].sum())
    last_gap = int(frame["lookback_missing_events"].iloc[-1]) if len(frame) else 0
    return Replay(
        frame,
        {
            "days": len(frame),
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "lookback_days": lookback,
            "verify_differences": int(frame["touched_differing_keys"].sum()),
            "lookback_missed_events": last_gap,
            "lookback_missed_share": last_gap / total_events if total_events else 0.0,
            "lookback_differing_keys": int(frame["lookback_differing_keys"].iloc[-1]) if len(frame) else 0,
            "median_touched_seconds": float(inc["touched_seconds"].median()) if len(inc) else None,
            "median_full_seconds": float(frame["full_seconds"].median()) if len(frame) else None,
        },
    )
