"""The run history: every command's record, and a fit of duration against rows that only work runs inform."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from evtools import runlog
from evtools.cli import main


def _runs() -> pd.DataFrame:
    """Four refresh runs that did work, taking exactly 0.5 s + 2 s per million rows, and three no-op runs (nothing
    new: 0 rows, mode noop) taking 0.4 s each, with fewer rows than any work run: the fit is 0.5 s + 2 s/M rows."""
    work = [(1e6, 2.5), (2e6, 4.5), (3e6, 6.5), (5e6, 10.5)]
    rows = [
        {"command": "refresh", "rows_read": r, "seconds": s, "status": "ok", "mode": "incremental"}
        for r, s in work
    ]
    rows += [{"command": "refresh", "rows_read": 0, "seconds": 0.4, "status": "ok", "mode": "noop"}] * 3
    frame = pd.DataFrame(rows)
    frame["started_at"] = pd.date_range("2026-01-01", periods=len(frame), freq="D")
    return frame


def test_the_fit_ignores_no_op_runs():
    history, fits = runlog.analyse(_runs())
    fit = fits["refresh"]
    assert fit["runs"] == 4
    assert fit["seconds_per_million_rows"] == pytest.approx(2.0)
    assert fit["intercept_s"] == pytest.approx(0.5)
    assert (history["flag"] == "").all()


def test_every_command_appends_one_record_to_its_configs_log(sample_dir, tmp_path):
    log = sample_dir / ".evtools" / "runs.jsonl"
    before = log.read_text().splitlines() if log.exists() else []
    assert main(["sources", "--config", str(sample_dir / "evtools.toml")]) == 0
    assert (
        main(["sources", "--config", str(sample_dir / "evtools.toml"), "--out", str(tmp_path / "x" / "y")])
        == 0
    )
    lines = log.read_text().splitlines()[len(before) :]
    assert [json.loads(line)["command"] for line in lines] == ["sources", "sources"]
    assert json.loads(lines[0])["status"] == "ok"
