"""Where a command's time goes: each named query's wall time and DuckDB's profile of it, logged as JSON lines.

Off unless ``EVTOOLS_STEP_LOG`` names a file. Then every named query a DuckDB engine runs appends one line to it:
``step`` (the ``sql/<name>.sql``), ``seconds`` (wall time of all its statements, results fetched), and from DuckDB's
profiler summed over its statements: ``rows_scanned``, ``bytes_read``, ``spilled_bytes`` (written to the temp
directory), and ``peak_buffer_bytes`` (the largest of its statements). ``benchmarks/scale.py --breakdown`` reads it.
Profiling costs little (benchmarks: profile_overhead) but is still off by default.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENV = "EVTOOLS_STEP_LOG"
_folders: dict[int, Path] = {}  # connection id -> the folder its current step's statement profiles go to


def target() -> str | None:
    """The file steps are logged to, or None (logging off)."""
    return os.environ.get(ENV) or None


@contextlib.contextmanager
def step(con: Any, name: str) -> Iterator[None]:
    """Log the named query run inside the block (nothing when logging is off)."""
    out = target()
    if out is None:
        yield
        return
    folder = Path(tempfile.mkdtemp(prefix="evtools-steplog-"))
    con.execute("PRAGMA enable_profiling = 'json'")
    con.execute("SET profiling_mode = 'detailed'")
    _folders[id(con)] = folder
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        con.execute("PRAGMA disable_profiling")
        _folders.pop(id(con), None)
        record = {"step": name, "seconds": round(seconds, 4), **_profiles(folder), "pid": os.getpid()}
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        shutil.rmtree(folder, ignore_errors=True)


def statement(con: Any) -> None:
    """Before each statement of a logged step: its profile goes to a file of its own."""
    folder = _folders.get(id(con))
    if folder is not None:
        path = folder / f"{len(list(folder.iterdir())):04d}.json"
        con.execute("SET profiling_output = $p", {"p": str(path)})


def _profiles(folder: Path) -> dict:
    """The step's statements' profiles, summed (peak buffer memory: the largest)."""
    total = {"rows_scanned": 0, "bytes_read": 0, "spilled_bytes": 0, "peak_buffer_bytes": 0}
    for path in sorted(folder.glob("*.json")):
        try:
            p = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        system, io, query = p.get("system", {}), p.get("io", {}), p.get("query", {})
        total["rows_scanned"] += int(query.get("total_rows_scanned") or 0)
        total["bytes_read"] += int(io.get("total_bytes_read") or 0)
        total["spilled_bytes"] += int(system.get("total_bytes_spilled") or 0)
        total["peak_buffer_bytes"] = max(total["peak_buffer_bytes"], int(system.get("peak_buffer_memory") or 0))
    return total


def read(path: Path) -> list[dict]:
    """The records of a step log."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
