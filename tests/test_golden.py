"""Golden files: the investigation's index, the daily verdict and both Slack payloads, rendered from the analyses
run on a copy of the committed sample (and, for the run history, on the job log of ``evtools.runs_sample``, as a
report run with ``-p run_log`` reads it).

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
import shutil
from pathlib import Path

import pytest

from evtools import (
    daily,
    ddl,
    findings,
    layout,
    notify,
    profiling,
    quality,
    reconcile,
    refresh,
    render,
    results,
    runs,
    runs_sample,
)
from evtools.config import load_config
from evtools.sources import open_sources

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
def sample(tmp_path_factory, sample_dir):
    folder = tmp_path_factory.mktemp("golden") / "sample"
    shutil.copytree(sample_dir, folder, ignore=shutil.ignore_patterns(".evtools"))
    path = folder / "evtools.toml"  # one thread: the re-laid files (and so their bytes) come out the same every run
    path.write_text(path.read_text().replace("[settings]", "[settings]\nthreads = 1"))
    return load_config(path)


@pytest.fixture(scope="module")
def investigation(sample, tmp_path_factory):
    """The records the investigation's notebooks make, computed the way they compute them."""
    cfg = sample
    job_log, _ = runs_sample.write(runs_sample.RunLogSpec(), tmp_path_factory.mktemp("runs"))  # a job log, as -p run_log
    con = open_sources(cfg, names=("fact_events",))
    full = profiling.profile(con, *profiling.job_query(con))
    window = profiling.profile(con, *profiling.job_query(con, 2))
    measured = layout.relay_and_measure(con, cfg, 2, 1)
    statements = ddl.ddl(ddl.LayoutSpec.from_config(cfg, "fact_events", *layout.date_range(con)))
    records = {
        "sources": results.sources(cfg),
        "profile": {"full": full.totals, "window": window.totals, "flags": full.flags, "window_days": 2},
        "layout": measured.summary | {"ddl": statements},
        "quality": quality.analyse(open_sources(cfg), cfg).summary,
        "reconcile": reconcile.reconcile(open_sources(cfg), cfg).summary,
        "refresh": refresh.replay(cfg, folder=tmp_path_factory.mktemp("replay")).summary,
        "history": runs.investigate(cfg, str(job_log)).summary(),
    }
    return steady(json.loads(json.dumps(records, default=str)))


@pytest.fixture(scope="module")
def daily_record(sample, tmp_path_factory):
    ran = daily.run_daily(sample, DAY, db=tmp_path_factory.mktemp("agg") / "agg.duckdb")
    return steady(json.loads(json.dumps(ran.summary(), default=str)))


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
