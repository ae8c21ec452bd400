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
import decimal
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from evtools.core import fsutil
from evtools.core.config import Config
from evtools.core.errors import ConcurrentRun, EngineError, EvtoolsError
from evtools.core.rules import lookback_since
from evtools.engines import base as engines
from evtools.engines import pipeline
from evtools.engines.queries import execute, first_row, run
from evtools.engines.sources import open_sources

log = logging.getLogger(__name__)
STRATEGIES = ("touched", "lookback")
AGGREGATE = pipeline.made(["refresh_state"]) | pipeline.AGGREGATE
FAULT_ENV = "EVTOOLS_REFRESH_FAULT"  # test seam: "raise", "kill" or "hold" in the middle of a run's transaction


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


def locked(db: Path, wait: float = 0.0):
    """Hold an exclusive lock on ``db`` (``<db>.lock`` beside the file it resolves to, so a symlink to it shares the
    lock) for the run; wait up to ``wait`` seconds for it."""
    db = Path(db).resolve()
    path = db.with_name(db.name + ".lock")
    return fsutil.locked(path, wait, str(db), f"another refresh is running (it holds {path})")


def attach(con: duckdb.DuckDBPyConnection, db: Path, wait: float = 0.0) -> None:
    """Open the aggregate database ``db`` as ``agg`` for writing, its state tables made. Another process holding it
    open (DuckDB locks the file) is waited for up to ``wait`` seconds, then ConcurrentRun: readers should open the
    snapshot (``snapshot_path``)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            con.execute("ATTACH $p AS agg", {"p": str(db)})
            break
        except duckdb.Error as e:  # another process: a lock conflict; this one: "already attached"
            if "lock" not in str(e).lower() and "already attached" not in str(e):
                raise EvtoolsError(
                    f"{db}: cannot open as the aggregate's DuckDB database: {_line(e)}"
                ) from None
            if time.monotonic() >= deadline:
                raise ConcurrentRun(
                    f"{db}: another process has the aggregate database open; readers open its snapshot "
                    f"{snapshot_path(db).name}; wait for it or pass --wait SECONDS"
                ) from None
            time.sleep(0.2)
    execute(con, "refresh_state")
    if "evtools_latest" in _tables(con, "agg"):
        con.execute("DETACH agg")
        raise EvtoolsError(
            f"{db}: built by an earlier evtools under another latest-version rule; rebuild it with refresh --full "
            "into a new --db"
        )


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = $d", {"d": database})
    return {r[0] for r in rows.fetchall()}


def snapshot_path(db: Path) -> Path:
    """The read-only snapshot of ``db`` that readers open (``<db stem>.snapshot.duckdb`` beside it)."""
    return Path(db).with_name(f"{Path(db).stem}.snapshot.duckdb")


def readable(db: Path) -> Path:
    """What a reader opens: the snapshot when there is one, else the database itself (built by an older evtools)."""
    snap = snapshot_path(db)
    return snap if snap.is_file() else Path(db)


def publish_snapshot(db: Path) -> Path:
    """Copy the aggregate's database file ``db`` (closed, checkpointed: no WAL beside it) to a new file and switch it
    in as the snapshot with one rename: a reader sees the previous run's or this one's, never a mix. The copy costs
    what the file's bytes cost (the aggregate, not the history)."""
    snap = snapshot_path(db)
    for stray in snap.parent.glob(f".{snap.name}.tmp-*"):  # a killed run's (this run holds the lock)
        stray.unlink(missing_ok=True)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        raise EvtoolsError(f"{wal}: left after the aggregate was checkpointed and closed; expected none")
    tmp = snap.with_name(f".{snap.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(db, tmp)
        fsutil.sync(tmp)  # on disk before the rename points readers at it
        os.replace(tmp, snap)
        fsutil.sync(snap.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return snap


def _line(e: Exception) -> str:
    return str(e).strip().splitlines()[0]


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


def state(con) -> tuple[str | None, dt.datetime | None]:
    """(strategy, watermark) of the aggregate attached as ``agg``; (None, None) before its first build."""
    return first_row(con, "refresh_read_state") or (None, None)


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
    """One refresh run of the aggregate in ``db``: on DuckDB a database file (default: settings.aggregate_db), on
    the sql engine a schema of the database (default: ``[engine] schema``); ``con``: an open session of the
    config's engine (default: one opened, and closed after the run)."""
    if strategy not in STRATEGIES:
        raise EvtoolsError(f"refresh --strategy: expected one of {', '.join(STRATEGIES)}, found '{strategy}'")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    lookback = config.settings.lookback_days if lookback_days is None else lookback_days
    with _session(config, con) as engine:
        until, waiting, future = clamp_until(engine, until, now)
        with engine.aggregate(config, db, wait):
            result = _run(engine, strategy, full, lookback, until, backfill)
    return replace(result, waiting_rows=waiting, future_rows=future)


PER_THREAD = 32 * 2**20  # what one thread of DuckDB's spilling hash aggregate needs to make progress
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}
_UNITS["tib"] = 2**40


def memory_bytes(limit: str) -> float:
    """A memory_limit setting ("500MB", "2GiB", "80%") in bytes."""
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*([a-zA-Z%]*)\s*", limit).groups()
    if unit == "%":
        return float(number) / 100 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return float(number) * _UNITS[unit.lower()]


def spill_within(con: duckdb.DuckDBPyConnection, memory_limit: str) -> None:
    """Let the refresh's statements spill to disk rather than fail within ``memory_limit``: the tables it writes
    need no insertion order, and it runs at most one thread per ``PER_THREAD`` of the limit (each thread of an
    aggregation over every event_id holds its own buffers; 50MB on 2 threads runs out where 1 thread spills)."""
    con.execute("SET preserve_insertion_order = false")
    threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    most = max(1, int(memory_bytes(memory_limit) // PER_THREAD))
    if threads > most:
        con.execute("SET threads = $n", {"n": most})


def db_path(db: Path | str) -> Path:
    """The aggregate database's real path (symlinks followed); EvtoolsError for a folder."""
    db = Path(db).expanduser().resolve()
    if db.is_dir():
        raise EvtoolsError(
            f"--db {db}: is a folder; expected the aggregate's DuckDB file (it is created if missing)"
        )
    return db


@contextlib.contextmanager
def _session(config: Config, con=None, check: bool = True):
    """``con`` as an engine, or a session on the config's engine opened for the block."""
    if con is not None:
        yield engines.of(con)
        return
    engine = engines.of(engines.open_engine(config, names=("fact_events",), check=check))
    try:
        yield engine
    finally:
        engine.close()


def _run(con: engines.Engine, strategy, full, lookback, until, backfill) -> RunResult:
    start = time.perf_counter()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    before_strategy, watermark = state(con)
    if watermark is not None and until < watermark and not full:
        raise EvtoolsError(
            f"refresh --until {until}: before the watermark {watermark}; use --full to rebuild"
        )
    if before_strategy and before_strategy != strategy and not full:
        raise EvtoolsError(
            f"the aggregate was built with strategy '{before_strategy}'; rebuild with --full to switch to '{strategy}'"
        )
    mode = "full" if full or watermark is None else ("backfill" if backfill else "incremental")
    since = lookback_since(until, lookback)
    missed = (0, 0)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = first_row(con, "refresh_next_run")[0]
    rows_read = keys = dates = 0
    if mode == "incremental" and until == watermark:
        mode = "noop"
    try:
        with con.transaction():
            params = {"until": until, "watermark": watermark, "since": since, "now": now}
            if mode == "full":
                pipeline.run(con, pipeline.REFRESH_FULL[:-1], params)
                _fault("after_latest")
                pipeline.run(
                    con, pipeline.REFRESH_FULL[-1:], params, given=pipeline.made(pipeline.REFRESH_FULL[:-1])
                )
                rows_read, keys, dates = first_row(con, "refresh_counts_full")
            elif mode == "backfill":
                keys, dates = _backfill(con, backfill, watermark, now)
            elif mode == "incremental" and strategy == "touched":
                located = con.exists(pipeline.LOCATED)
                touched = pipeline.REFRESH_TOUCHED_LOCATED if located else pipeline.REFRESH_TOUCHED
                given = AGGREGATE | ({pipeline.LOCATED} if located else set())
                pipeline.run(con, touched[:1], params, given=given)
                missed = tuple(first_row(con, "refresh_missed", params))
                pipeline.run(con, touched[1:2], params, given=pipeline.made(touched[:1], given))
                _fault("after_locate")  # between the located lookup's halves; after the one-pass lookup
                pipeline.run(con, touched[2:-1], params, given=pipeline.made(touched[:2], given))
                if located:
                    _check_fetch(con)
                _fault("before_apply")
                pipeline.run(con, touched[-1:], params, given=pipeline.made(touched[:-1], given))
                _fault("after_apply")
                rows_read, keys, dates = first_row(con, "refresh_counts")
            elif mode == "incremental":
                pipeline.run(con, pipeline.REFRESH_LOOKBACK, params, given=AGGREGATE)
                missed = tuple(first_row(con, "refresh_missed", params))
                _fault("after_apply")
                rows_read, keys, dates = first_row(con, "refresh_counts_lookback")
            new_watermark = watermark if mode in ("noop", "backfill") else until
            execute(con, "refresh_set_state", {"strategy": strategy, "watermark": new_watermark, "now": now})
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
            _log_run(con, result, started, until, "ok", None)
    except BaseException as e:
        failed = RunResult(
            run_id, strategy, mode, watermark, watermark, 0, 0, 0, 0, 0, round(time.perf_counter() - start, 3)
        )
        with contextlib.suppress(duckdb.Error, EvtoolsError):
            _log_run(con, failed, started, until, "failed", f"{type(e).__name__}: {e}"[:500])
        raise
    return result


def _check_fetch(con) -> None:
    """EngineError when the two halves of the located lookup disagree: fact_events' files changed during the run."""
    places, fetched, foreign = first_row(con, "refresh_fetch_check")
    if places != fetched or foreign:
        raise EngineError(
            f"fact_events changed during the refresh: the lookup found {places:,} rows of the new rows' event ids "
            f"and then read {fetched:,} ({foreign:,} of other ids); a file was rewritten or replaced meanwhile. "
            "Run the refresh again (nothing was written)"
        )


def _backfill(
    con, span: tuple[dt.date, dt.date], watermark: dt.datetime, now: dt.datetime
) -> tuple[int, int]:
    """Rebuild the aggregate's rows for the dates in ``span`` from fact_events, as of the watermark."""
    params = {"first": span[0], "last": span[1], "watermark": watermark, "now": now}
    pipeline.run(con, pipeline.REFRESH_BACKFILL, params, given=AGGREGATE)
    return tuple(first_row(con, "refresh_counts_backfill"))


RANGES = 8  # the lookup's ranges of event ids on a lakehouse (refresh_ranges.sql)


def lookup_ranges(con) -> dict:
    """The parameters lo1, hi1 .. lo8, hi8 of a lakehouse's lookup (lake_lookup.sql): the ranges of the touched event ids, split at their widest
    gaps when the ids are numbers, else one range from the smallest to the largest (unused ranges are None)."""
    lo, hi = first_row(con, "refresh_range_bounds")
    if isinstance(lo, int | float | decimal.Decimal) and not isinstance(lo, bool):
        ranges = [tuple(r) for r in run(con, "refresh_ranges").itertuples(index=False)]
    else:
        ranges = [(lo, hi)] if lo is not None else []
    out: dict = {}
    for i in range(RANGES):
        out[f"lo{i + 1}"], out[f"hi{i + 1}"] = ranges[i] if i < len(ranges) else (None, None)
    return out


def _log_run(con, r: RunResult, started, until, status: str, error: str | None) -> None:
    execute(
        con,
        "refresh_log_run",
        {
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
        },
    )


def _fault(point: str) -> None:
    """Fail here when the test seam asks for it (``EVTOOLS_REFRESH_FAULT=raise:<point>`` or ``kill:<point>``), or
    hold the run's transaction open while the file ``EVTOOLS_REFRESH_HOLD`` exists (``hold:<point>``, 5 min at most)."""
    wanted = os.environ.get(FAULT_ENV, "")
    if not wanted.endswith(f":{point}"):
        return
    if wanted.startswith("hold:"):
        deadline = time.monotonic() + 300
        hold = Path(os.environ.get("EVTOOLS_REFRESH_HOLD") or os.devnull)
        if hold.is_file():
            hold.with_name(hold.name + ".reached").touch()  # the test holding the run knows it is here
        while hold.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        return
    if wanted.startswith("kill:"):
        os.kill(os.getpid(), 9)
    raise RuntimeError(f"injected fault at {point}")


def verify(config: Config, db: Path | str | None = None, con=None) -> pd.DataFrame:
    """Keys where the aggregate differs from a full recomputation as of its watermark (empty when exact).

    The recomputation runs the full build's own steps into a scratch place the engine gives (a scratch database
    file; a schema inside a transaction rolled back), so the incremental runs are checked against one pass over all
    rows, and nothing is written. What is checked is what the engine gives a consistent reader (``Engine.reading``):
    on DuckDB the database itself, held against a refresh meanwhile, or while one runs its last published snapshot,
    so a verification never sees a run half done."""
    with _session(config, con) as engine, engine.reading(config, db, hold=True) as db:
        with engine.aggregate(config, db, read_only=True) as where:
            _, watermark = state(engine)
        if watermark is None:
            raise EvtoolsError(f"{where}: the aggregate has never been built; run evtools refresh first")
        with engine.scratch(config, db):
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            pipeline.run(engine, pipeline.REFRESH_FULL, {"until": watermark, "now": now})
            given = pipeline.made(pipeline.REFRESH_FULL) | {"live.agg_company_daily_events"}
            return pipeline.fetch(engine, ["refresh_verify"], given=given)


def differences(db: Path, full: Path) -> pd.DataFrame:
    """Keys where the aggregate in ``db`` differs from the one in ``full`` (a full build as of the same time)."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH $p AS live (READ_ONLY)", {"p": str(db)})
        con.execute("ATTACH $p AS agg (READ_ONLY)", {"p": str(full)})
        return pipeline.fetch(con, ["refresh_verify"], given={"live.agg_company_daily_events"} | AGGREGATE)
    finally:
        con.close()


def table(config: Config, db: Path | str | None = None, con=None) -> pd.DataFrame:
    """The aggregate as a frame (for small data and tests), ordered by key, as a reader sees it (on DuckDB: its
    snapshot)."""
    return _read(config, db, con, "refresh_table")


def runs(config: Config, db: Path | str | None = None, con=None) -> pd.DataFrame:
    """One row per refresh run, as a reader sees them (on DuckDB: from the snapshot)."""
    return _read(config, db, con, "refresh_runs")


def _read(config: Config, db, con, query: str) -> pd.DataFrame:
    with (
        _session(config, con, check=False) as engine,
        engine.reading(config, db) as place,
        engine.aggregate(config, place, read_only=True),
    ):
        return run(engine, query)


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
        con = open_sources(config, names=("fact_events",), check=False)
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
