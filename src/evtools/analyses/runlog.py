"""Run history: every evtools command appends one JSON line (command, parameters, start, duration, rows and bytes
read, peak RSS, status) to the run log (settings.run_log, relative to the config file).

Rows and bytes read are what the command's sources hold (fact_events rows and file bytes), noted by the command
with ``note()``; peak RSS is the process's own. ``evtools runs`` and notebook 06 analyse this log like any other
run log (``evtools.analyses.runs``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from evtools.core.redact import scrub

log = logging.getLogger(__name__)
_NOTES: dict = {}


def note(**figures) -> None:
    """Add figures (rows_read, bytes_read, ...) to the current command's record."""
    _NOTES.update({k: v for k, v in figures.items() if v is not None})


@dataclass
class Run:
    """One command's run: ``start`` begins it, ``finish`` appends its record, whatever the outcome."""

    path: Path | None
    command: str
    parameters: dict
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    clock: float = field(default_factory=time.perf_counter)

    def finish(self, exit_code: int, error: str | None = None) -> None:
        """Append the record: status ok | failed | interrupted, the exit code and the one-line error (no secret)."""
        if self.path is None:
            return
        status = "ok" if exit_code == 0 else "interrupted" if exit_code == 130 else "failed"
        record = {
            "command": self.command,
            "parameters": {k: scrub(str(v)) for k, v in self.parameters.items() if v is not None},
            "started_at": self.started.strftime("%Y-%m-%dT%H:%M:%S"),
            "seconds": round(time.perf_counter() - self.clock, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "status": status,
            "exit_code": exit_code,
            **({"error": scrub(error)} if error else {}),
            **_NOTES,
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, default=str) + "\n")
        except OSError as e:  # the history must never fail the command itself
            log.warning("could not append to the run log %s: %s", self.path, e)


def start(path: Path | None, command: str, parameters: dict) -> Run:
    """Begin recording a command (``path`` None: no run log)."""
    _NOTES.clear()
    return Run(path, command, parameters)


def source_figures(con, config) -> dict:
    """rows and bytes of the configured fact_events (what a full scan reads)."""
    from evtools.engines.queries import first_row
    from evtools.engines.sources import data_files

    rows = first_row(con, "fact_rows")[0]
    source = config.source("fact_events")
    size = None
    if not source.is_duckdb and not source.catalog and "://" not in source.location:
        files, _, _ = data_files(source)
        size = sum(Path(f).stat().st_size for f in files)
    return {"rows_read": int(rows), "bytes_read": size}
