"""Golden files: the investigation's index, the daily verdict and both Slack payloads, rendered from the records the
notebooks made in the reports rendered once per run on a copy of the committed sample (``conftest.rendered_reports``),
and, for the run history, from the job log of ``evtools.analyses.runs_sample``, as a report run with ``-p run_log`` reads it.

Volatile inputs are fixed before rendering: every clock reading (``*seconds*``) is replaced by a constant, the
report date is given, and the generation time and version are placeholders; everything else (counts, bytes, dates,
the sentences built from them) must come out byte for byte as in ``tests/golden``. After a deliberate change,
regenerate them with ``EVTOOLS_REGENERATE_GOLDEN=1 pytest tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
from pathlib import Path

import pytest

from evtools.analyses import runs, runs_sample
from evtools.app import notify
from evtools.core.config import load_config
from evtools.present import findings, render, results

pytestmark = pytest.mark.slow
GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("EVTOOLS_REGENERATE_GOLDEN") == "1"
DAY = dt.date(2026, 2, 20)
LINK = "https://reports.example/evtools"
LAYOUT_SECONDS = {"before": 0.02, "sorted": 0.004, "by_date": 0.005}


def steady(value, key: str = "", layout_name: str = ""):
    """``value`` with every clock reading replaced by a constant (per layout where the key names one), and the path
    a log was read from by a placeholder."""
    if key == "where":
        return "JOB_LOG"
    if isinstance(value, dict):
        return {k: steady(v, k, k if k in LAYOUT_SECONDS else layout_name) for k, v in value.items()}
    if isinstance(value, list):
        return [steady(v, key, layout_name) for v in value]
    if "seconds" in key and isinstance(value, int | float):
        return LAYOUT_SECONDS.get(layout_name, 0.01) if key == "median_seconds" else 0.01
    return value


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
        return
    want = path.read_text(encoding="utf-8")
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), name, "now", n=1))
        pytest.fail(f"{name} differs from its golden file (EVTOOLS_REGENERATE_GOLDEN=1 to accept):\n{diff[:6000]}")


@pytest.fixture(scope="module")
def investigation(rendered_reports, tmp_path_factory):
    """The records the investigation's notebooks made (conftest's rendered report), the run history's from a job
    log, as a report run with ``-p run_log`` makes it."""
    cfg = load_config(rendered_reports.config)
    job_log, _ = runs_sample.write(runs_sample.RunLogSpec(), tmp_path_factory.mktemp("runs"))
    records = {**rendered_reports.investigation["records"], "history": runs.investigate(cfg, str(job_log)).summary()}
    return steady(json.loads(json.dumps(records, default=str)))


@pytest.fixture(scope="module")
def daily_record(rendered_reports):
    """The daily report's record of DAY (conftest's rendered report)."""
    return steady(rendered_reports.daily["records"]["daily"])


def run_json(kind: str, records: dict, pages: list[str]) -> dict:
    notebooks = [{"name": name, "status": "ok", "seconds": 1.0, "error": None} for name in pages]
    return {"kind": kind, "date": DAY.isoformat(), "status": "ok", "notebooks": notebooks, "records": records}


def test_investigation_index_and_slack_payload(investigation):
    run = run_json("investigation", investigation, list(findings.PAGES.values())[:6])
    summary = findings.from_run(run)
    check("investigation_index.html", render.summary_page(summary, "VERSION", "GENERATED"))
    check("investigation_slack.json", json.dumps(notify.compose(run, LINK), indent=2) + "\n")


def test_daily_verdict_and_slack_payload(daily_record):
    run = run_json("daily", {"daily": daily_record}, ["daily_report"])
    verdict = render.daily(results.Daily.from_summary(daily_record))
    check("daily_verdict.html", verdict)
    check("daily_slack.json", json.dumps(notify.compose(run, LINK), indent=2) + "\n")
