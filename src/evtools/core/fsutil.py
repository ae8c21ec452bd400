"""Writing outputs whole or not at all.

An output folder is written beside its target (``.NAME.tmp-*``) and switched in with one rename: an atomic exchange
of the two folders where the system has it (Linux renameat2), else two renames whose gap the next run repairs. A
reader sees the old output or the new one, never a mix; a failure or a kill leaves the old one. One process at a time
publishes a given folder (``.NAME.lock`` beside it, found through symlinks); stray temporary folders
are removed on every exit path, and those a killed run left are removed by the next run on the same folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import glob as globmod
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from evtools.core.errors import ConcurrentRun, EvtoolsError

if TYPE_CHECKING:
    import pandas as pd


@contextlib.contextmanager
def locked(
    lock_file: Path,
    wait: float = 0.0,
    what: str = "output folder",
    busy: str = "another evtools process is writing it",
) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created if missing; its folder resolved, so symlinks share it) for
    the block; wait up to ``wait`` seconds for it, else ConcurrentRun: "``what``: ``busy``; wait ..."."""
    lock_file = Path(lock_file).parent.resolve() / Path(lock_file).name
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConcurrentRun(f"{what}: {busy}; wait for it or pass --wait SECONDS") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_file(out: Path) -> Path | None:
    """The lock of the output folder ``out``: ``.NAME.lock`` beside it; none for a folder inside a staging folder
    (``.X.tmp-*``), which is private to the process writing it."""
    out = Path(out)
    if out.parent.name.startswith(".") and ".tmp-" in out.parent.name:
        return None
    return out.parent / f".{out.name}.lock"


def check_folder(out: Path, flag: str = "--out") -> Path:
    """``out`` resolved; EvtoolsError when it exists and is not a folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise EvtoolsError(f"{flag} {out}: is a file; expected a folder (or a path that does not exist yet)")
    return out.resolve()


def clean_strays(out: Path) -> None:
    """Remove what an interrupted publish of ``out`` left beside it; put the old output back if only it remains."""
    for stray in sorted(out.parent.glob(f".{out.name}.old-*")):
        if not out.exists():
            os.rename(stray, out)
        else:
            shutil.rmtree(stray, ignore_errors=True)
    for stray in out.parent.glob(f".{out.name}.tmp-*"):
        if stray.is_dir():
            shutil.rmtree(stray, ignore_errors=True)
        else:
            stray.unlink(missing_ok=True)


@contextlib.contextmanager
def staged(out: Path, wait: float = 0.0) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out``, under ``out``'s lock; the caller publishes it (``publish``) or
    not; the folder is removed on every exit path."""
    out = check_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_file(out)
    with locked(lock, wait, f"{out}") if lock else contextlib.nullcontext():
        clean_strays(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def publish(tmp: Path, out: Path) -> None:
    """Switch the folder ``tmp`` in as ``out`` with one rename (the old ``out``, if any, is removed after)."""
    out = Path(out)
    if not out.exists():
        os.rename(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old output
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _foreign(out: Path, new: Path) -> list[str]:
    """Entries of ``out`` the new output would drop: files evtools did not write there (hidden ones aside)."""
    if not out.is_dir():
        return []
    keep = {p.name for p in new.iterdir()}
    return sorted(p.name for p in out.iterdir() if p.name not in keep and not p.name.startswith("."))


@contextlib.contextmanager
def atomic_dir(out: Path, wait: float = 0.0) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``out``; on success it replaces ``out`` whole, in one rename.

    On any exception (or signal) the temporary folder is removed and ``out`` is left exactly as it was. An ``out``
    holding files the new output would not (another command's output, the user's own files) is refused: EvtoolsError.
    """
    out = check_folder(out)
    with staged(out, wait) as tmp:
        yield tmp
        foreign = _foreign(out, tmp)
        if foreign:
            raise EvtoolsError(
                f"--out {out}: holds {', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}, which this "
                "command does not write; give it a folder of its own"
            )
        publish(tmp, out)


def files_at(path: Path, keep: Callable[[Path], bool]) -> list[Path] | None:
    """The files a path names: a folder's files that ``keep`` accepts (recursively, sorted), a glob's matches, or
    the file itself; None when there is nothing at the path."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and keep(p))
    if any(ch in str(path) for ch in "*?["):
        return sorted(Path(p) for p in globmod.glob(str(path), recursive=True) if Path(p).is_file())
    return [path] if path.is_file() else None


def sync(path: Path) -> None:
    """Flush the file or folder ``path`` to disk (a folder: the names in it, such as a rename just made)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    """Write a file whole: a temporary file beside it, then one rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame as parquet, with its date columns (``date``, ``*_date``) stored as DATE, not timestamps."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, name in enumerate(table.column_names):
        if (name == "date" or name.endswith("_date")) and pa.types.is_timestamp(table.schema.field(i).type):
            table = table.set_column(i, name, table.column(i).cast(pa.date32()))
    pq.write_table(table, path)


def iso_date(value) -> str | None:
    """A date-like value as YYYY-MM-DD (None stays None)."""
    import pandas as pd

    if value is None or (isinstance(value, float) and value != value):
        return None
    return pd.Timestamp(value).date().isoformat()


def process_alive(pid: int) -> bool:
    """True while a process with this id exists (one of another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
