"""Run history: every evtools command appends one JSON line (command, parameters, start, duration, rows and bytes
read, peak RSS, status) to the run log (settings.run_log, relative to the config file).

Rows and bytes read are what the command's sources hold (fact_events rows and file bytes), noted by the command
with ``note()``; peak RSS is the process's own.
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

import pandas as pd

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


def read(path: Path) -> pd.DataFrame:
    """The run log as a frame (empty when there is none); unreadable lines are skipped."""
    rows = []
    if Path(path).is_file():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                rows.append(json.loads(line))
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["started_at"] = pd.to_datetime(frame["started_at"])
    return frame


def source_figures(con, config) -> dict:
    """rows and bytes of the configured fact_events (what a full scan reads)."""
    from evtools.queries import first_row
    from evtools.sources import _files

    rows = first_row(con, "fact_rows")[0]
    source = config.source("fact_events")
    size = None
    if not source.is_duckdb and not source.catalog and "://" not in source.location:
        files, _, _ = _files(source)
        size = sum(Path(f).stat().st_size for f in files)
    return {"rows_read": int(rows), "bytes_read": size}


def analyse(frame: pd.DataFrame, jump: float = 2.0) -> tuple[pd.DataFrame, dict]:
    """Per command, over its successful runs that did work: fit seconds = a + b * rows_read; flag runs slower than
    ``jump`` x the fit (grew faster than their data) and runs whose seconds per million rows jumped ``jump`` x above
    the command's median. No-op runs (a refresh with nothing new: mode noop, or no row read) are left out: their
    seconds are fixed costs that say nothing of how the work grows with the data."""
    import numpy as np

    if frame.empty:
        return frame, {}
    frame = frame.copy()
    frame["rows_read"] = pd.to_numeric(frame.get("rows_read"), errors="coerce")
    frame["expected_seconds"] = np.nan
    frame["flag"] = ""
    noop = (frame["rows_read"] == 0) | (frame["mode"] == "noop" if "mode" in frame else False)
    fits = {}
    for command, part in frame[(frame["status"] == "ok") & ~noop].groupby("command"):
        ok = part.dropna(subset=["rows_read"])
        if len(ok) >= 3 and ok["rows_read"].nunique() >= 2:
            b, a = np.polyfit(ok["rows_read"], ok["seconds"], 1)
            fits[command] = {
                "intercept_s": float(a),
                "seconds_per_million_rows": float(b * 1e6),
                "runs": len(ok),
            }
            frame.loc[ok.index, "expected_seconds"] = a + b * ok["rows_read"]
            slow = ok.index[ok["seconds"] > jump * (a + b * ok["rows_read"]).clip(lower=0.05)]
            frame.loc[slow, "flag"] = "slower than its data explains"
        rate = part["seconds"] / (part["rows_read"].clip(lower=1) / 1e6)
        jumped = part.index[rate > jump * rate.median()] if len(part) >= 3 else []
        frame.loc[[i for i in jumped if not frame.loc[i, "flag"]], "flag"] = "seconds per row jumped"
    return frame, fits


def describe(frame: pd.DataFrame, fits: dict) -> str:
    """The run history in a few lines of markdown."""
    if frame.empty:
        return "No runs recorded yet: every evtools command run with this config adds one."
    lines = [
        f"- {len(frame)} runs of {frame['command'].nunique()} commands since {frame['started_at'].min():%Y-%m-%d}."
    ]
    for command, fit in fits.items():
        lines.append(
            f"- `{command}`: {fit['intercept_s']:.2f} s + {fit['seconds_per_million_rows']:.2f} s per million rows "
            f"({fit['runs']} runs)."
        )
    flagged = frame[frame["flag"] != ""]
    lines.append(
        f"- {len(flagged)} runs flagged." if len(flagged) else "- No run was slower than its data explains."
    )
    return "\n".join(lines)
