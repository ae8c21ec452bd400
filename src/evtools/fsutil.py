"""Writing outputs whole or not at all; a lock file held for a run."""

from __future__ import annotations

import contextlib
import fcntl
import glob as globmod
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evtools.errors import ConcurrentRun


@contextlib.contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``out``; on success each of its entries replaces its namesake in ``out``.

    Entries are replaced whole (a sub-folder is swapped, not merged). On any exception the temporary folder is removed
    and ``out`` is left exactly as it was.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    out.mkdir(parents=True, exist_ok=True)
    for item in sorted(tmp.iterdir()):
        target = out / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif item.is_dir() and target.exists():
            target.unlink()
        os.replace(item, target)
    shutil.rmtree(tmp, ignore_errors=True)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame as parquet, with its date columns (``date``, ``*_date``) stored as DATE, not timestamps."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, name in enumerate(table.column_names):
        if (name == "date" or name.endswith("_date")) and pa.types.is_timestamp(table.schema.field(i).type):
            table = table.set_column(i, name, table.column(i).cast(pa.date32()))
    pq.write_table(table, path)


def iso_date(value) -> str | None:
    """A date-like value as YYYY-MM-DD (None stays None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return pd.Timestamp(value).date().isoformat()


def files_at(path: Path, keep: Callable[[Path], bool]) -> list[Path] | None:
    """The files a path names: a folder's files that ``keep`` accepts (recursively, sorted), a glob's matches, or
    the file itself; None when there is nothing at the path."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and keep(p))
    if any(ch in str(path) for ch in "*?["):
        return sorted(Path(p) for p in globmod.glob(str(path), recursive=True) if Path(p).is_file())
    return [path] if path.is_file() else None


@contextlib.contextmanager
def locked(db: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on ``db`` (``<db>.lock``) for the run; wait up to ``wait`` seconds for it."""
    db.parent.mkdir(parents=True, exist_ok=True)
    path = db.with_name(db.name + ".lock")
    with open(path, "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConcurrentRun(
                        f"{db}: another refresh is running (it holds {path}); wait for it or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
