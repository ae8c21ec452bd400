"""The aggregate's DuckDB file: its lock, its opening for writing, the read-only snapshot readers open, and the
memory a refresh's statements run within."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import duckdb

from evtools.core import fsutil
from evtools.core.errors import ConcurrentRun, EvtoolsError


def locked(db: Path, wait: float = 0.0):
    """Hold an exclusive lock on ``db`` (``<db>.lock`` beside the file it resolves to, so a symlink to it shares the
    lock) for the run; wait up to ``wait`` seconds for it."""
    db = Path(db).resolve()
    path = db.with_name(db.name + ".lock")
    return fsutil.locked(path, wait, str(db), f"another refresh is running (it holds {path})")


def attach(con: duckdb.DuckDBPyConnection, db: Path, wait: float = 0.0) -> None:
    """Open the aggregate database ``db`` as ``agg`` for writing. Another process holding it
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
