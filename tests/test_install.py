"""A plain (not editable) pip install of the repository into a new venv, then a user's project from an unrelated
folder: init on the user's files, the daily report for the data's latest complete date, and the investigation."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.install]
IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".evtools",
    "reports",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "benchmarks",
    "tests",
)


def _run(cmd: list, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in env.items() if k != "PYTHONPATH"}  # the venv's own evtools, nothing else
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The venv's bin folder, evtools installed from a copy of the repository (pip may reuse its cached wheels)."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "evtools-src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=IGNORE)
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp, dict(os.environ))
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", str(src)]
    _run(pip, tmp, dict(os.environ))
    return venv / "bin"


def test_the_installed_package_carries_the_notebooks_and_suites(installed):
    proc = _run(
        [
            str(installed / "python"),
            "-c",
            "import evtools, pathlib; print(pathlib.Path(evtools.__file__).parent)",
        ],
        installed,
        dict(os.environ),
    )
    package = Path(proc.stdout.strip())
    assert package.is_relative_to(installed.parent) and not (package / "notebooks").is_symlink()
    shipped = sorted(p.name for p in (package / "notebooks").glob("*.ipynb"))
    assert shipped == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    suites = sorted(p.name for p in (package / "suites").glob("*.json"))
    assert suites == sorted(p.name for p in (ROOT / "expectations").glob("*.json"))


def test_init_and_both_reports_from_an_unrelated_folder(installed, tmp_path):
    """The user's files name their columns in their own case and separators (init maps them)."""
    user = tmp_path / "lake"
    user.mkdir()
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT event_id AS "EventId", company_id AS "CompanyID", date AS "Date", events AS "EVENTS",
                        ingested_at AS "Ingested_At" FROM '{SAMPLE}/fact_events/*.parquet')
            TO '{user}/events.parquet' (FORMAT parquet)"""
    )
    shutil.copy(SAMPLE / "api_daily.csv", user / "api.csv")
    shutil.copy(SAMPLE / "dashboard.parquet", user / "dashboard.parquet")
    newest_day, rows = con.execute(
        f"SELECT CAST(max(ingested_at) AS DATE), count(*) FROM '{SAMPLE}/fact_events/*.parquet'"
    ).fetchone()
    latest = con.execute(
        f"SELECT max(date) FROM '{SAMPLE}/fact_events/*.parquet' WHERE date < $d", {"d": newest_day}
    ).fetchone()[0]
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "EVTOOLS_CONFIG"} | {"EVTOOLS_NO_PROGRESS": "1"}
    evtools = str(installed / "evtools")
    init = [evtools, "init", "../../proj", "--fact-events", "../../lake/events.parquet"]
    _run(
        [*init, "--api-daily", "../../lake/api.csv", "--dashboard", "../../lake/dashboard.parquet"],
        elsewhere,
        env,
    )
    config, out = "../../proj/evtools.toml", "../../proj/reports"
    _run([evtools, "report", "daily", "--config", config, "--out", out], elsewhere, env)
    replay = f"first_day={newest_day - dt.timedelta(days=2)}"  # notebook 05 replays 3 days, not 30: quicker
    _run([evtools, "report", "investigation", "--config", config, "--out", out, "-p", replay], elsewhere, env)

    reports = tmp_path / "proj" / "reports"
    daily = json.loads((reports / str(latest) / "daily" / "run.json").read_text())
    assert daily["status"] == "ok" and daily["date"] == str(latest)
    figures = daily["records"]["daily"]
    assert 0 < figures["refresh"]["rows_read"] <= rows  # the first run builds from all history
    assert figures["reconciliation"]["keys_compared"] > 0 and figures["validation"]["expectations"] > 0
    investigation = json.loads(next(reports.glob("*/investigation/run.json")).read_text())
    assert investigation["status"] == "ok" and investigation["records"]["quality"]["rows"] == rows
    assert list(elsewhere.iterdir()) == []  # nothing written where the commands ran
