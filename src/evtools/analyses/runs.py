"""The slowdown investigation on a job-run history: is each job slower because of its data or because of a change?

Per job, over its runs in start order (the log is read by ``evtools.analyses.runs_read``):
- volume: the run's rows, else its bytes (the first of them above 0 in some run of the job, else the first the log
  gives at all); a job may have neither.
- fitted runs: status ok with a duration, and (where the job has volume) a volume above 0. A run with volume 0 is a
  no-op run; it, and failed, timed-out, skipped and unfinished runs, are left out of every fit.
- the line: seconds = overhead + cost * volume, fitted as least squares of the per-unit cost (seconds / volume) on
  1 / volume, which is least squares of seconds on volume weighted by 1 / volume^2 (durations spread in proportion
  to their size). expected = overhead + cost * volume; residual = seconds - expected; R^2 = 1 - sum(residual^2) /
  sum((seconds - mean seconds)^2). Without volume the line is the mean duration.
- change points: binary segmentation of the per-unit cost (``evtools.analyses.changepoints``: likelihood ratio, Bonferroni
  over the candidate runs, p below ``alpha``), at least ``min_segment`` fitted runs a side, and a change of at least
  ``min_ratio``: ratio = the segment after's expected seconds / the segment before's, both at the reference volume
  (the median volume of the ``min_segment`` runs either side); defaults 5 runs, alpha 0.001, 1.5x (``Thresholds``).
  A split is tested within the segment being searched; the figures reported compare the final segments either
  side. A change point is the first run at the new cost; ratio > 1 means the cost per unit rose: the code, the plan
  or the platform changed, not the data.
- slow runs: fitted runs whose per-unit cost is at least ``slow_ratio`` times their segment's line.
- growth: the median seconds of the last w fitted runs over that of the first w, w = max(min_segment, a tenth of
  them); volume growth likewise.
- verdict: ``code-driven`` when a change point raised the cost; else ``volume-driven`` when seconds grew at least
  ``growth_ratio`` times and the line explains them (R^2 at least ``min_r2``); else ``unexplained growth`` when they
  grew; else ``stable``. ``too few runs`` below 2 * min_segment fitted runs (no change-point search).
- timeouts: runs the log marks timeout, and failed runs that stopped within 1% of the longest failed run, when at
  least two did and no ok run of the job ran longer (the scheduler's limit: the shortest of them).
- N+1 (one call per row): with calls in the log, median rows per call at most ``n1_rows_per_call`` over fitted runs
  with rows and calls, and at least 100 rows in the largest run. With rows only: the cost per row at least
  ``n1_seconds_per_row`` (a round trip; set-based writes cost microseconds a row), no change point, the overhead under
  10% of the latest run's expected seconds and rows spanning at least ``n1_span`` times: the time per row stays
  constant while rows grow far past where batching would amortise it.
- batch arithmetic: at the latest fitted run, R rows in C calls (R without calls) over S seconds: S / C seconds a
  call; batches of ``batch_size`` rows make ceil(R / batch_size) calls, about ceil(R / batch_size) * S / C seconds.
"""

from __future__ import annotations

import fnmatch
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from evtools.analyses import changepoints as cp
from evtools.analyses.runs_findings import findings
from evtools.core.errors import EvtoolsError
from evtools.core.fsutil import atomic_dir

VERDICTS = ("code-driven", "volume-driven", "unexplained growth", "stable", "too few runs")


@dataclass(frozen=True)
class Thresholds:
    min_segment: int = 5  # fitted runs on each side of a change point
    alpha: float = 0.001  # a change point's Bonferroni-adjusted p-value must be below this
    min_ratio: float = 1.5  # the smallest change in cost per unit reported as a change point (either way)
    slow_ratio: float = 2.0  # a run this many times slower than its segment's line is a slow run
    growth_ratio: float = 1.5  # seconds grew (last runs over first runs) at least this much
    min_r2: float = 0.8  # the line explains the growth when its R^2 reaches this
    n1_rows_per_call: float = 2.0  # N+1 from calls: at most this many rows per call
    n1_seconds_per_row: float = 1e-4  # N+1 from rows only: at least this many seconds per row (a round trip)
    n1_span: float = 10.0  # N+1 from rows only: rows span at least this many times
    batch_size: int = 1000  # the batch size of the arithmetic


@dataclass(frozen=True)
class RunsResult:
    """Frames: ``runs`` (one row per run, with its fit), ``jobs`` (one row per job), ``changes`` (one row per
    change point); ``source`` (what was read)."""

    runs: pd.DataFrame
    jobs: pd.DataFrame
    changes: pd.DataFrame
    source: dict
    thresholds: Thresholds = field(default_factory=Thresholds)
    found: tuple = ()  # the findings (evtools.analyses.runs_findings.findings), computed once

    def findings(self) -> list[dict]:
        return list(self.found)

    def summary(self) -> dict:
        """The small, JSON-ready summary reports and notifications read."""
        jobs = self.jobs
        verdicts = jobs["verdict"].value_counts().to_dict() if len(jobs) else {}
        return {
            "source": self.source,
            "runs": len(self.runs),
            "jobs": len(jobs),
            "first_started": _iso(self.runs["started_at"].min()) if len(self.runs) else None,
            "last_started": _iso(self.runs["started_at"].max()) if len(self.runs) else None,
            "verdicts": {v: int(verdicts.get(v, 0)) for v in VERDICTS},
            "n_plus_one": int(jobs["n_plus_one"].sum()) if len(jobs) else 0,
            "change_points": len(self.changes),
            "slow_runs": int((self.runs["flag"] == "slow run").sum()) if len(self.runs) else 0,
            "failed_runs": int((self.runs["status"] == "failed").sum()) if len(self.runs) else 0,
            "timeouts": int((self.runs["status"] == "timeout").sum()) if len(self.runs) else 0,
            "flagged": int((self.runs["flag"] != "").sum()) if len(self.runs) else 0,
            "findings": self.findings()[:10],
            "thresholds": asdict(self.thresholds),
        }

    def write(self, out: Path) -> list[Path]:
        """runs.parquet, jobs.csv, changes.csv and summary.json under ``out``, whole or not at all."""
        names = ["runs.parquet", "jobs.csv", "changes.csv", "summary.json"]
        with atomic_dir(out) as tmp:
            self.runs.to_parquet(tmp / names[0], index=False)
            self.jobs.to_csv(tmp / names[1], index=False)
            self.changes.to_csv(tmp / names[2], index=False)
            (tmp / names[3]).write_text(json.dumps(self.summary(), indent=2, default=str) + "\n")
        return [Path(out) / n for n in names]


def investigate(
    config=None,
    log: str | list[str] | None = None,
    fmt: str | None = None,
    columns: dict | None = None,
    duration_unit: str | None = None,
    jobs: list[str] | None = None,
    thresholds: Thresholds | None = None,
) -> RunsResult:
    """Read a run log with DuckDB and analyse it.

    ``log``: files, globs or folders; by default the config's ``[runs] log``, else its evtools run log (an empty
    result while that does not exist yet). ``fmt``, ``columns`` (merged over the config's) and ``duration_unit``
    default to the config's ``[runs]``; ``jobs``: glob patterns of the jobs to keep.
    """
    from evtools.analyses.runs_read import LogSpec, read_log
    from evtools.core.config import RunHistory
    from evtools.engines.queries import run
    from evtools.engines.sources import connect

    history = config.runs if config is not None else RunHistory()
    paths = [log] if isinstance(log, str) else list(log or [])
    if not paths and history.log:
        paths = [str(config.resolve(history.log))]
    own = not paths
    if own:
        if config is None:
            raise EvtoolsError("runs: no run log given (--log FILE) and no config to take one from")
        if not config.run_log.is_file():
            empty = pd.DataFrame(columns=_FRAME_COLUMNS)
            return analyse(empty, {"where": str(config.run_log), "format": "evtools"}, thresholds)
        paths = [str(config.run_log)]
    spec = LogSpec(
        tuple(paths),
        fmt or ("evtools" if own else history.format),
        dict(history.columns) | dict(columns or {}),
        duration_unit or history.duration_unit,
    )
    con = connect(config)
    info = read_log(con, spec)
    frame = run(con, "runs_frame")
    con.close()
    if jobs:
        frame = frame[[any(fnmatch.fnmatchcase(str(j), p) for p in jobs) for j in frame["job"]]]
        if frame.empty:
            raise EvtoolsError(f"{info.where}: no job matches {', '.join(jobs)}")
    source = {
        "where": info.where,
        "files": len(info.files),
        "format": info.format,
        "mapping": info.mapping,
        "untimed": info.untimed,
    }
    return analyse(frame, source, thresholds)


_FRAME_COLUMNS = ["job", "run_no", "run_id", "started_at", "finished_at", "seconds", "rows", "bytes", "calls",
                  "status", "status_raw"]  # fmt: skip


def analyse(
    frame: pd.DataFrame, source: dict | None = None, thresholds: Thresholds | None = None
) -> RunsResult:
    """Analyse every job of a runs frame (the columns of sql/runs_frame.sql, ordered by job and run_no)."""
    t = thresholds or Thresholds()
    frame = frame.reset_index(drop=True).copy()
    n = len(frame)
    cols = {
        "volume": np.full(n, np.nan),
        "fitted": np.zeros(n, dtype=bool),
        "noop": np.zeros(n, dtype=bool),
        "expected_seconds": np.full(n, np.nan),
        "residual": np.full(n, np.nan),
        "segment": np.zeros(n, dtype=np.int64),
        "segment_expected_seconds": np.full(n, np.nan),
        "flag": np.full(n, "", dtype=object),
    }
    status = frame["status"].to_numpy(dtype=object).copy()
    arrays = {c: frame[c].to_numpy() for c in ("job", "run_no", "run_id", "started_at")}
    arrays |= {
        c: pd.to_numeric(frame[c]).to_numpy(dtype=float) for c in ("seconds", "rows", "bytes", "calls")
    }
    jobs, changes = [], []
    if n:
        starts = np.flatnonzero(np.r_[True, arrays["job"][1:] != arrays["job"][:-1]])
        for lo, hi in zip(starts, np.r_[starts[1:], n], strict=True):
            part = {k: v[lo:hi] for k, v in arrays.items()}
            row, found = _job(part, status[lo:hi], {k: v[lo:hi] for k, v in cols.items()}, t)
            jobs.append(row)
            changes += found
    runs = frame.assign(status=status, **cols)
    jobs_frame = pd.DataFrame(jobs, columns=_JOB_COLUMNS)
    changes_frame = pd.DataFrame(changes, columns=_CHANGE_COLUMNS)
    result = RunsResult(runs, jobs_frame, changes_frame, source or {}, t)
    return replace(result, found=tuple(findings(result)))


_JOB_COLUMNS = [
    "job", "verdict", "runs", "fitted", "noop", "failed", "timeouts", "skipped", "unfinished", "volume_unit",
    "first_started", "last_started", "overhead_seconds", "seconds_per_unit", "r2", "seconds_first", "seconds_last",
    "growth", "volume_first", "volume_last", "volume_growth", "change_points", "slow_runs", "timeout_seconds",
    "n_plus_one", "n1_basis", "rows_per_call", "latest_run_no", "latest_rows", "latest_calls", "latest_seconds",
    "batched_calls", "batched_seconds",
]  # fmt: skip
_CHANGE_COLUMNS = [
    "job", "run_no", "run_id", "started_at", "ratio", "reference_volume", "expected_before", "expected_after",
    "cost_before", "cost_after", "overhead_before", "overhead_after", "volume_before", "volume_after", "lr",
    "p_adjusted",
]  # fmt: skip


def _job(part: dict, status: np.ndarray, out: dict, t: Thresholds) -> tuple[dict, list[dict]]:
    """Analyse one job's runs (``part``: its slice of each column, as arrays); fill its slice of the per-run
    columns ``out`` and ``status`` in place."""
    job = part["job"][0]
    seconds = part["seconds"]
    unit = next((u for u in ("rows", "bytes") if (part[u] > 0).any()), None) or next(
        (u for u in ("rows", "bytes") if np.isfinite(part[u]).any()), None
    )  # a job whose runs all read 0 has volume: every run is a no-op
    volume = part[unit] if unit else np.full(len(seconds), np.nan)
    ok = (status == "ok") & np.isfinite(seconds) & (seconds >= 0)
    fitted = ok & (volume > 0) if unit else ok
    out["volume"][:] = volume
    out["fitted"][:] = fitted
    out["noop"][:] = ok & (volume == 0) if unit else False
    timeout_seconds = _timeouts(seconds, status, ok)
    row = {
        "job": job,
        "runs": len(seconds),
        "fitted": int(fitted.sum()),
        "noop": int(out["noop"].sum()),
        "failed": int((status == "failed").sum()),
        "timeouts": int((status == "timeout").sum()),
        "skipped": int((status == "skipped").sum()),
        "unfinished": int((status == "unfinished").sum()),
        "volume_unit": unit,
        "first_started": part["started_at"][0],
        "last_started": part["started_at"][-1],
        "timeout_seconds": timeout_seconds,
        "change_points": 0,
        "slow_runs": 0,
        "n_plus_one": False,
    }
    idx = np.flatnonzero(fitted)
    if len(idx) < 3:
        return row | {"verdict": "too few runs"}, []
    s, v = seconds[idx], volume[idx]
    x = 1 / v if unit else None
    y = s / v if unit else s
    x_var = float(np.var(x)) if unit else None
    whole = cp.line(x, y, x_var)
    expected = _seconds(whole, v, unit)
    out["expected_seconds"][idx] = expected
    out["residual"][idx] = s - expected
    total = float(((s - s.mean()) ** 2).sum())
    w = max(t.min_segment, len(idx) // 10)
    row |= {
        "overhead_seconds": whole.slope if unit else whole.intercept,
        "seconds_per_unit": whole.intercept if unit else None,
        "r2": 1 - float(((s - expected) ** 2).sum()) / total if total > 0 else 1.0,
        "seconds_first": float(np.median(s[:w])),
        "seconds_last": float(np.median(s[-w:])),
        "volume_first": float(np.median(v[:w])) if unit else None,
        "volume_last": float(np.median(v[-w:])) if unit else None,
    }
    row["growth"] = row["seconds_last"] / row["seconds_first"] if row["seconds_first"] > 0 else None
    row["volume_growth"] = row["volume_last"] / row["volume_first"] if unit and row["volume_first"] else None
    found = []
    if len(idx) >= 2 * t.min_segment:

        def accept(lo: int, split: cp.Split, hi: int) -> bool:
            ratio = _change(x, y, v, unit, x_var, lo, split.k, hi, t.min_segment)["ratio"]
            return ratio >= t.min_ratio or ratio <= 1 / t.min_ratio

        splits = cp.binary_segmentation(x, y, t.min_segment, t.alpha, accept)
        ks = [split.k for split in splits]
        bounds = [0, *ks, len(idx)]
        for i, (k, split) in enumerate(zip(ks, splits, strict=True)):
            c = _change(x, y, v, unit, x_var, bounds[i], k, bounds[i + 2], t.min_segment)
            run = {name: part[name][idx[k]] for name in ("run_no", "run_id", "started_at")}
            found.append({"job": job, **run} | c | {"lr": split.lr, "p_adjusted": split.p_adjusted})
            out["flag"][idx[k]] = "change point"
    else:
        bounds = [0, len(idx)]
    for seg, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        line = cp.line(x[lo:hi] if unit else None, y[lo:hi], x_var)
        seg_idx = idx[lo:hi]
        out["segment"][seg_idx] = seg
        out["segment_expected_seconds"][seg_idx] = _seconds(line, v[lo:hi], unit)
        predicted = line.at(x[lo:hi]) if unit else np.full(hi - lo, line.intercept)
        with np.errstate(divide="ignore", invalid="ignore"):
            slow = (predicted > 0) & (y[lo:hi] >= t.slow_ratio * predicted)
        out["flag"][seg_idx[slow & (out["flag"][seg_idx] == "")]] = "slow run"
    row["change_points"] = len(found)
    row["slow_runs"] = int((out["flag"] == "slow run").sum())
    row["verdict"] = _verdict(row, found, t)
    row |= _n_plus_one(part, idx, unit, row, found, t)
    return row, found


def _seconds(line: cp.Line, v: np.ndarray, unit: str | None) -> np.ndarray:
    """Expected seconds at volume v: overhead (the line's slope on 1/v) + cost (its intercept) * v."""
    return line.slope + line.intercept * v if unit else np.full(len(v), line.intercept)


def _change(x, y, v, unit, x_var, lo: int, k: int, hi: int, m: int) -> dict:
    """The figures of a change at k between segments [lo, k) and [k, hi)."""
    before = cp.line(x[lo:k] if unit else None, y[lo:k], x_var)
    after = cp.line(x[k:hi] if unit else None, y[k:hi], x_var)
    near = v[max(lo, k - m) : min(hi, k + m)] if unit else None
    ref = float(np.median(near)) if unit else None
    expected_before = float(_seconds(before, np.array([ref or 0.0]), unit)[0])
    expected_after = float(_seconds(after, np.array([ref or 0.0]), unit)[0])
    return {
        "ratio": expected_after / expected_before if expected_before > 0 else math.inf,
        "reference_volume": ref,
        "expected_before": expected_before,
        "expected_after": expected_after,
        "cost_before": before.intercept if unit else None,
        "cost_after": after.intercept if unit else None,
        "overhead_before": before.slope if unit else before.intercept,
        "overhead_after": after.slope if unit else after.intercept,
        "volume_before": float(np.median(v[max(lo, k - m) : k])) if unit else None,
        "volume_after": float(np.median(v[k : min(hi, k + m)])) if unit else None,
    }


def _verdict(row: dict, found: list[dict], t: Thresholds) -> str:
    if row["fitted"] < 2 * t.min_segment:
        return "too few runs"
    if any(c["ratio"] > 1 for c in found):
        return "code-driven"
    if row["growth"] is not None and row["growth"] >= t.growth_ratio:
        explained = row["volume_unit"] is not None and row["r2"] >= t.min_r2
        return "volume-driven" if explained else "unexplained growth"
    return "stable"


def _timeouts(seconds: np.ndarray, status: np.ndarray, ok: np.ndarray) -> float | None:
    """Mark inferred timeouts in ``status`` (failed runs stopped at one limit); return the limit, if any."""
    marked = status == "timeout"
    failed = np.flatnonzero((status == "failed") & np.isfinite(seconds))
    if len(failed) >= 2:
        top = seconds[failed].max()
        near = failed[seconds[failed] >= 0.99 * top]
        longest_ok = seconds[ok].max() if ok.any() else 0.0
        if len(near) >= 2 and top >= longest_ok:
            status[near] = "timeout"
            marked = status == "timeout"
    if not marked.any():
        return None
    return float(np.nanmin(seconds[marked]))


def _n_plus_one(part: dict, idx: np.ndarray, unit, row: dict, found: list, t: Thresholds) -> dict:
    """The N+1 test (module docstring) and the batch arithmetic at the latest fitted run."""
    if unit != "rows":
        return {}
    rows, calls, seconds = part["rows"][idx], part["calls"][idx], part["seconds"][idx]
    has_calls = np.isfinite(calls) & (calls > 0)
    latest = len(idx) - 1
    result: dict = {}
    if has_calls.any():
        per_call = float(np.median(rows[has_calls] / calls[has_calls]))
        result = {"rows_per_call": per_call, "n1_basis": "calls"}
        flagged = per_call <= t.n1_rows_per_call and rows.max() >= 100
        c = calls[latest] if has_calls[latest] else rows[latest] / per_call
    else:
        span = rows.max() / rows.min() if rows.min() > 0 else math.inf
        expected_latest = row["overhead_seconds"] + row["seconds_per_unit"] * rows[latest]
        flagged = (
            row["seconds_per_unit"] >= t.n1_seconds_per_row
            and not found
            and row["overhead_seconds"] < 0.1 * expected_latest
            and span >= t.n1_span
        )
        result = {"n1_basis": "rows"}
        c = rows[latest]
    if not flagged:
        return result
    batched = math.ceil(rows[latest] / t.batch_size)
    return result | {
        "n_plus_one": True,
        "latest_run_no": int(part["run_no"][idx[latest]]),
        "latest_rows": float(rows[latest]),
        "latest_calls": float(c),
        "latest_seconds": float(seconds[latest]),
        "batched_calls": batched,
        "batched_seconds": batched * seconds[latest] / c if c else None,
    }


def _iso(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()
