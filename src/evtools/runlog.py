"""Run history: every evtools command appends one JSON line (command, parameters, start, duration, rows and bytes
read, peak RSS, status) to the run log (settings.run_log, relative to the config file).

Rows and bytes read are what the command's sources hold (fact_events rows and file bytes), noted by the command
with ``note()``; peak RSS is the process's own. ``evtools runs`` and notebook 06 analyse this log like any other
run log (``evtools.runs``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import resource
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)
_NOTES: dict = {}


def note(**figures) -> None:
    """Add figures (rows_read, bytes_read, ...) to the current command's record."""
    _NOTES.update({k: v for k, v in figures.items() if v is not None})


@contextlib.contextmanager
def recording(path: Path | None, command: str, parameters: dict) -> Iterator[None]:
    """Append the command's record to ``path`` when it ends, whatever the outcome."""
    _NOTES.clear()
    started = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    status = "ok"
    try:
        yield
    except SystemExit as e:
        status = "ok" if not e.code else f"exit {e.code}"
        raise
    except BaseException as e:
        status = f"failed: {type(e).__name__}"
        raise
    finally:
        if path is not None:
            record = {
                "command": command,
                "parameters": {k: str(v) for k, v in parameters.items() if v is not None},
                "started_at": started.strftime("%Y-%m-%dT%H:%M:%S"),
                "seconds": round(time.perf_counter() - start, 3),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "status": status,
                **_NOTES,
            }
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record, default=str) + "\n")
            except OSError as e:  # the history must never fail the command itself
                log.warning("could not append to the run log %s: %s", path, e)


def source_figures(con, config) -> dict:
    """rows and bytes of the configured fact_events (what a full scan reads)."""
    from evtools.queries import first_row
    from evtools.sources import data_files

    rows = first_row(con, "fact_rows")[0]
    source = config.source("fact_events")
    size = None
    if not source.is_duckdb and not source.catalog and "://" not in source.location:
        files, _, _ = data_files(source)
        size = sum(Path(f).stat().st_size for f in files)
    return {"rows_read": int(rows), "bytes_read": size}
