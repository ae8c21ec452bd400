"""A job-run log with injected slowdowns, and its ground truth, for ``evtools runs`` and its tests.

Four jobs, each with ``runs`` daily runs (run n starts on day n - 1 at 02:00 UTC plus a few minutes per job), all
durations times (1 + e) with e ~ N(0, ``noise``) and rows times (1 + e') with e' ~ N(0, ``noise``):

- ``warehouse.load_orders`` (volume-driven): rows grow geometrically from 200,000 to 3,200,000; seconds = 3 +
  4e-6 * rows; written in batches of 5,000 rows (calls = ceil(rows / 5,000) + 2). Runs ``noop_runs`` find
  nothing to do: rows 0, calls 1, 0.8 s, status success.
- ``warehouse.rollup_daily`` (code-driven): rows grow linearly from 1,000,000 to 2,000,000; seconds = 1.5 + 2e-6 *
  rows before run ``step_run`` and 1.5 + ``step_factor`` * 2e-6 * rows from it on; calls = ceil(rows / 10,000) + 1.
- ``crm.sync_contacts`` (N+1): one write per row (calls = rows + 1); rows grow geometrically from 2,000 to
  4,000,000; seconds = 0.4 + 1.1e-3 * rows. A run whose duration would exceed ``timeout_seconds`` is stopped
  there: status failed, seconds = timeout_seconds + U(0, 2).
- ``reports.refresh_dims`` (stable): rows 50,000; seconds = 12; calls 3. Run ``slow_run`` takes 3 times as long (one
  slow run, not a change); runs ``failed_runs`` fail after 3 s.

With ``copies`` > 1 the four jobs repeat with independent noise, names suffixed ``_2``, ``_3``, ... (a log of
4 * runs * copies runs). ``truth`` lists, per job, the verdict, change points, slow runs, no-op, failed and
timed-out runs (by run number, 1-based, and run_id) and whether the job is N+1.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evtools.core.errors import EvtoolsError

COLUMNS = ("job", "run_id", "started_at", "finished_at", "seconds", "rows", "bytes", "calls", "status")


@dataclass(frozen=True)
class RunLogSpec:
    runs: int = 250  # runs per job
    copies: int = 1  # how many times the four jobs repeat
    start: dt.date = dt.date(2026, 1, 1)  # the day of the first run
    seed: int = 19
    noise: float = 0.03  # sd of the multiplicative noise on durations and rows
    step_run: int = 150  # rollup_daily: the first run at the new per-row cost (1-based)
    step_factor: float = 3.0  # rollup_daily: per-row cost after / before
    timeout_seconds: float = 3600.0  # sync_contacts: the scheduler's timeout
    noop_runs: tuple[int, ...] = (20, 21, 90, 180)  # load_orders: runs with nothing to do
    slow_run: int = 60  # refresh_dims: one run 3x slower
    failed_runs: tuple[int, ...] = (100, 200)  # refresh_dims: runs that fail early
    columns: dict = field(default_factory=dict)  # canonical name -> name written (a foreign schema)

    def check(self) -> None:
        for name, run in (("step_run", self.step_run), ("slow_run", self.slow_run)):
            if not 1 <= run <= self.runs:
                raise EvtoolsError(f"runs sample: {name} {run} is outside runs 1..{self.runs}")
        if self.runs < 20:
            raise EvtoolsError(f"runs sample: expected at least 20 runs per job, found {self.runs}")


def generate(spec: RunLogSpec) -> tuple[pd.DataFrame, dict]:
    """The log (canonical column names) and its ground truth."""
    spec.check()
    rng = np.random.default_rng(spec.seed)
    frames, truth = [], {}
    for copy in range(1, spec.copies + 1):
        suffix = "" if copy == 1 else f"_{copy}"
        for offset, (name, make) in enumerate(_JOBS.items()):
            job = name + suffix
            frame, facts = make(spec, rng)
            frame.insert(0, "job", job)
            n = np.arange(1, spec.runs + 1)
            frame.insert(1, "run_id", [f"{job}#{i}" for i in n])
            start = pd.Timestamp(spec.start) + pd.Timedelta(hours=2, minutes=7 * offset)
            frame.insert(2, "started_at", start + pd.to_timedelta(n - 1, unit="D"))
            frame.insert(3, "finished_at", frame["started_at"] + pd.to_timedelta(frame["seconds"], unit="s"))
            frames.append(frame)
            truth[job] = {k: _with_ids(job, v) if k.endswith("runs") else v for k, v in facts.items()}
    log = pd.concat(frames, ignore_index=True)
    return log[list(COLUMNS)], truth


def write(spec: RunLogSpec, out: Path, fmt: str = "csv") -> tuple[Path, Path]:
    """Write the log as ``job_runs.csv`` or ``job_runs.jsonl`` (columns renamed by ``spec.columns``) and its truth
    as ``job_runs_truth.json``; return both paths."""
    log, truth = generate(spec)
    log = log.rename(columns=dict(spec.columns))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"job_runs.{fmt}"
    stamps = [c for c in log.columns if str(log[c].dtype).startswith("datetime")]
    for c in stamps:
        log[c] = log[c].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if fmt == "csv":
        log.to_csv(path, index=False)
    elif fmt == "jsonl":
        log.to_json(path, orient="records", lines=True)
    else:
        raise EvtoolsError(f"runs sample: format '{fmt}': expected csv or jsonl")
    meta = {"spec": asdict(spec) | {"start": spec.start.isoformat()}, "jobs": truth}
    truth_path = out / "job_runs_truth.json"
    truth_path.write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return path, truth_path


def _with_ids(job: str, runs: list[int]) -> list[dict]:
    return [{"run": int(r), "run_id": f"{job}#{r}"} for r in runs]


def _noisy(rng, values: np.ndarray, sd: float) -> np.ndarray:
    return values * (1 + rng.normal(0, sd, len(values)))


def _geometric(first: float, last: float, n: int) -> np.ndarray:
    return first * (last / first) ** (np.arange(n) / (n - 1))


def _frame(seconds, rows, calls, status) -> pd.DataFrame:
    rows = np.asarray(rows, dtype=np.int64)
    return pd.DataFrame(
        {
            "seconds": np.round(seconds, 4),
            "rows": rows,
            "bytes": rows * 120,
            "calls": np.asarray(calls, dtype=np.int64),
            "status": status,
        }
    )


def _load_orders(spec: RunLogSpec, rng) -> tuple[pd.DataFrame, dict]:
    rows = np.round(_noisy(rng, _geometric(200_000, 3_200_000, spec.runs), spec.noise))
    seconds = _noisy(rng, 3.0 + 4e-6 * rows, spec.noise)
    calls = np.ceil(rows / 5_000) + 2
    noop = [r for r in spec.noop_runs if 1 <= r <= spec.runs]
    idx = np.array(noop, dtype=int) - 1
    rows[idx], seconds[idx], calls[idx] = 0, 0.8, 1
    facts = {
        "verdict": "volume-driven",
        "n_plus_one": False,
        "overhead_seconds": 3.0,
        "seconds_per_row": 4e-6,
        "change_runs": [],
        "slow_runs": [],
        "noop_runs": noop,
        "failed_runs": [],
        "timeout_runs": [],
    }
    return _frame(seconds, rows, calls, "success"), facts


def _rollup_daily(spec: RunLogSpec, rng) -> tuple[pd.DataFrame, dict]:
    rows = np.round(_noisy(rng, np.linspace(1_000_000, 2_000_000, spec.runs), spec.noise))
    per_row = np.where(np.arange(1, spec.runs + 1) >= spec.step_run, spec.step_factor * 2e-6, 2e-6)
    seconds = _noisy(rng, 1.5 + per_row * rows, spec.noise)
    facts = {
        "verdict": "code-driven",
        "n_plus_one": False,
        "overhead_seconds": 1.5,
        "seconds_per_row": [2e-6, spec.step_factor * 2e-6],
        "change_runs": [spec.step_run],
        "slow_runs": [],
        "noop_runs": [],
        "failed_runs": [],
        "timeout_runs": [],
    }
    return _frame(seconds, rows, np.ceil(rows / 10_000) + 1, "success"), facts


def _sync_contacts(spec: RunLogSpec, rng) -> tuple[pd.DataFrame, dict]:
    rows = np.round(_noisy(rng, _geometric(2_000, 4_000_000, spec.runs), spec.noise))
    seconds = _noisy(rng, 0.4 + 1.1e-3 * rows, spec.noise)
    stopped = seconds > spec.timeout_seconds
    seconds[stopped] = spec.timeout_seconds + rng.uniform(0, 2, int(stopped.sum()))
    status = np.where(stopped, "failed", "success")
    timeouts = [int(i) + 1 for i in np.flatnonzero(stopped)]
    facts = {
        "verdict": "volume-driven",
        "n_plus_one": True,
        "overhead_seconds": 0.4,
        "seconds_per_row": 1.1e-3,
        "timeout_seconds": spec.timeout_seconds,
        "change_runs": [],
        "slow_runs": [],
        "noop_runs": [],
        "failed_runs": timeouts,
        "timeout_runs": timeouts,
    }
    return _frame(seconds, rows, rows + 1, status), facts


def _refresh_dims(spec: RunLogSpec, rng) -> tuple[pd.DataFrame, dict]:
    rows = np.round(_noisy(rng, np.full(spec.runs, 50_000.0), 0.02))
    seconds = _noisy(rng, np.full(spec.runs, 12.0), spec.noise)
    seconds[spec.slow_run - 1] *= 3
    failed = [r for r in spec.failed_runs if 1 <= r <= spec.runs and r != spec.slow_run]
    seconds[np.array(failed, dtype=int) - 1] = 3.0
    status = np.array(["success"] * spec.runs, dtype=object)
    status[np.array(failed, dtype=int) - 1] = "failed"
    facts = {
        "verdict": "stable",
        "n_plus_one": False,
        "change_runs": [],
        "slow_runs": [spec.slow_run],
        "noop_runs": [],
        "failed_runs": failed,
        "timeout_runs": [],
    }
    return _frame(seconds, rows, np.full(spec.runs, 3), status), facts


_JOBS = {
    "warehouse.load_orders": _load_orders,
    "warehouse.rollup_daily": _rollup_daily,
    "crm.sync_contacts": _sync_contacts,
    "reports.refresh_dims": _refresh_dims,
}
