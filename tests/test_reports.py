"""Reports: notebooks run by papermill into HTML without code; every failure mode ends the run as failed.

The notebooks in tests/notebooks each show one failure mode: broken (a cell raises), killed (the kernel dies),
slow (a cell outlives the timeout); fine works and records a verdict.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from evtools.app import reports
from evtools.app.cli import main
from evtools.core.errors import EvtoolsError

HERE = Path(__file__).parent
NOTEBOOKS = HERE.parent / "notebooks"
pytestmark = pytest.mark.slow


def _as_daily(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "nb"
    folder.mkdir(exist_ok=True)
    shutil.copy(HERE / "notebooks" / f"{name}.ipynb", folder / "daily_report.ipynb")
    return folder


@pytest.fixture(scope="module")
def fine_daily(tmp_path_factory, sample_dir) -> tuple[Path, dict]:
    """The daily report of the fine notebook, its date left to evtools: the reports folder and the run record (made
    once for the tests that only read it)."""
    tmp = tmp_path_factory.mktemp("fine_daily")
    return tmp / "reports", reports.run_report("daily", sample_dir / "evtools.toml", tmp / "reports", _as_daily(tmp, "fine"))


def test_fine_notebook_makes_an_ok_run_and_index(fine_daily):
    out, record = fine_daily
    assert record["status"] == "ok" and record["headline"] == "no findings"  # its record is not a daily summary
    run_dir = out / record["date"] / "daily"
    assert (run_dir / "daily_report.ipynb").is_file() and (run_dir / "daily_report.html").is_file()
    index = (out / "index.html").read_text()
    assert "no findings" in index and f"{record['date']}/daily/index.html" in index


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("broken", "this cell fails on purpose"),
        ("killed", "the notebook's kernel died"),
        ("slow", "a cell ran longer than the timeout of 5 s"),
    ],
)
def test_failure_modes_end_the_run_as_failed(tmp_path, sample_dir, name, error):
    start = time.perf_counter()
    with pytest.raises(reports.ReportFailed) as err:
        reports.run_report(
            "daily", sample_dir / "evtools.toml", tmp_path / "r", _as_daily(tmp_path, name), timeout=5
        )
    assert time.perf_counter() - start < 50
    assert error.lower() in str(err.value).lower()
    run = json.loads(next((tmp_path / "r").glob("*/daily-failed/run.json")).read_text())
    assert run["status"] == "failed" and run["notebooks"][0]["status"] == "failed"
    assert next(
        (tmp_path / "r").glob("*/daily-failed/daily_report.ipynb")
    ).is_file()  # the audit record is kept
    assert "failed" in (tmp_path / "r" / "index.html").read_text()
    # in words for a stakeholder: the headline names no exception class, the page no traceback
    assert run["headline"].startswith("failed: ") and "Papermill" not in run["headline"]
    assert run["verdict"].startswith("This run stopped at ")
    page = next((tmp_path / "r").glob("*/daily-failed/daily_report.html")).read_text()
    assert run["verdict"].split(":")[0] in page.replace("&#34;", '"') and "Traceback" not in page
    if name == "broken":
        assert "the step \u201cA notebook whose second cell raises.\u201d" in run["verdict"]


def _latest_complete_date(fact) -> dt.date:
    """The greatest date with rows that lies wholly before the newest ingestion's UTC day (pandas, independently)."""
    newest_day = fact["ingested_at"].max().date()
    return max(d for d in fact["date"].map(pd.Timestamp).dt.date.unique() if d < newest_day)


def test_daily_date_is_the_latest_complete_date_of_the_data(fine_daily, fact_frame):
    _, record = fine_daily
    expected = _latest_complete_date(fact_frame)
    assert expected == dt.date(2026, 3, 1)  # the sample's last date; its last ingestion is on 2026-03-02
    assert record["date"] == expected.isoformat() == record["records"]["daily"]["run_date"]


def test_daily_date_from_date_or_run_date_parameter(tmp_path, sample_dir, capsys):
    base = ["report", "daily", "--config", str(sample_dir / "evtools.toml"), "--notebooks"]
    nb = str(_as_daily(tmp_path, "fine"))
    assert main([*base, nb, "--out", str(tmp_path / "a"), "-p", "run_date=2026-02-20"]) == 0
    run = json.loads((tmp_path / "a" / "2026-02-20" / "daily" / "run.json").read_text())
    assert run["records"]["daily"]["run_date"] == "2026-02-20"
    assert main([*base, nb, "--out", str(tmp_path / "b"), "--date", "2026-02-21"]) == 0
    assert (tmp_path / "b" / "2026-02-21" / "daily" / "run.json").is_file()
    capsys.readouterr()
    args = [*base, nb, "--out", str(tmp_path / "c"), "--date", "2026-02-21", "-p", "run_date=2026-02-22"]
    assert main(args) == 2
    assert "disagree" in capsys.readouterr().err


def test_a_date_without_data_is_exit_1_before_any_kernel(tmp_path, sample_dir, capsys):
    start = time.perf_counter()
    args = ["report", "daily", "--config", str(sample_dir / "evtools.toml"), "--out", str(tmp_path / "r")]
    assert main([*args, "--date", "2030-01-01"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "evtools: fact_events has no rows on 2030-01-01 (its dates run 2026-01-01 .. 2026-03-01): "
        "nothing to report for that date\n"
    )
    assert not (tmp_path / "r").exists() and time.perf_counter() - start < 20


def _notebook(path: Path, *sources: str) -> None:
    cells = [nbformat.v4.new_code_cell("config = ''", metadata={"tags": ["parameters"]})]
    notebook = nbformat.v4.new_notebook(cells=cells + [nbformat.v4.new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def test_a_reports_notebooks_share_one_kernel_and_nothing_else(tmp_path, sample_dir):
    """The second notebook runs in the first one's kernel (same process) with an empty namespace, the run's folder
    as its working folder (the first left it) and its cells counted from 1."""
    folder = tmp_path / "nb"
    folder.mkdir()
    record = "from evtools import reports\nimport os\nreports.record({name!r}, {{'pid': os.getpid(), 'cwd': os.getcwd(), {extra}}})"
    _notebook(
        folder / "01_query_plan.ipynb",
        "leaked = 1\n__import__('os').chdir('/')",
        record.format(name="first", extra="'leaked': 'leaked' in dir()"),
    )
    _notebook(
        folder / "02_scan_volume.ipynb",
        "import math",
        record.format(name="second", extra="'leaked': 'leaked' in dir()"),
    )
    ran = reports.run_report(
        "investigation",
        sample_dir / "evtools.toml",
        tmp_path / "r",
        folder,
        date=dt.date(2026, 3, 1),
        only=["01_query_plan", "02_scan_volume"],
    )
    first, second = ran["records"]["first"], ran["records"]["second"]
    assert first["leaked"] is True and first["cwd"] == "/" and second["pid"] == first["pid"]
    assert second["leaked"] is False
    assert Path(second["cwd"]).name.startswith(".investigation.tmp-")  # the run's stage, not where the first went
    executed = nbformat.read(tmp_path / "r" / "2026-03-01" / "investigation" / "02_scan_volume.ipynb", as_version=4)
    counts = [c.execution_count for c in executed.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)) and len(counts) == 4  # with papermill's injected parameters


def test_unknown_parameter_is_rejected(tmp_path, sample_dir):
    with pytest.raises(EvtoolsError, match="unknown parameter nope"):
        reports.run_report(
            "daily",
            sample_dir / "evtools.toml",
            tmp_path / "r",
            _as_daily(tmp_path, "fine"),
            params={"nope": 1},
        )


def test_investigation_notebooks_render_figures_without_code(rendered_reports):
    record = rendered_reports.investigation
    assert record["status"] == "ok"
    q, r = record["records"]["quality"], record["records"]["reconcile"]
    run_dir = rendered_reports.run_dir("investigation")
    html3 = (run_dir / "03_duplicates_late_appends.html").read_text()
    html4 = (run_dir / "04_reconciliation.html").read_text()
    assert f"{q['duplicate_excess']:,}" in html3 and f"{q['correction_excess']:,}" in html3
    assert f"{r['mismatched']:,} of {r['keys_compared']:,}" in html4
    assert "duplicate excess: over groups of rows with the same payload" in html3  # the definitions, quoted from the module
    assert "delta = D - A = drift + duplicates + corrections + late + residual" in html4
    for html in (html3, html4):
        assert "load_config(" not in html and "open_sources(" not in html and "import " not in html  # no code
        assert len(re.findall(r'src="data:image/png;base64', html)) >= 3  # figures embedded
        assert "<script src=" not in html  # nothing loaded from elsewhere
        text = re.sub(r"data:image/png;base64,[^\"]+", "", html)  # figures' bytes may spell anything
        assert ">NaN<" not in text and ">None<" not in text and "Figure size" not in text
    lay = record["records"]["layout"]
    html2 = (run_dir / "02_scan_volume.html").read_text()
    assert f"{lay['window_to_ideal']:.2f}x what its rows alone need" in html2
    assert len(re.findall(r'src="data:image/png;base64', html2)) >= 2
    html1 = (run_dir / "01_query_plan.html").read_text()
    assert "The job scans all history on every run" in html1 and len(re.findall(r"data:image/png;base64", html1)) >= 2
    refreshed = record["records"]["refresh"]
    assert refreshed["verify_differences"] == 0 and refreshed["lookback_missed_events"] > 0
    html5 = (run_dir / "05_incremental_refresh.html").read_text()
    assert "equalled a full recomputation after every run" in html5
    assert f"ended {refreshed['lookback_missed_events']:,} events short" in html5
    assert record["records"]["history"]["runs"] == 0  # a fresh copy has no run history yet
    index = (run_dir / "index.html").read_text()
    assert "What to change" in index and "What is wrong" in index and "What it costs" in index
    assert "Count the latest version of each event_id" in index and "evtools refresh --verify" in index
    assert "2026-01-01 to 2026-03-01" in index  # the data's period, not the report's date
    for name in ("operators", "scan_volume", "replayed_loads", "replay_days"):  # full tables beside the pages
        assert (run_dir / f"{name}.csv").is_file()


def test_committed_notebooks_have_no_outputs_and_a_parameters_cell():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1, path.name
        assert nb.metadata["kernelspec"]["name"] == "python3"


def test_notebooks_match_their_percent_pairs():
    import jupytext

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        pair = path.with_suffix(".py")
        assert pair.is_file(), f"{path.name} has no py:percent pair"
        a = [c.source for c in nbformat.read(path, as_version=4).cells]
        b = [c.source for c in jupytext.read(pair).cells]
        assert a == b, f"{path.name} and {pair.name} differ: run jupytext --sync {pair}"


def test_notebooks_define_no_functions():
    for path in sorted(NOTEBOOKS.glob("*.py")):
        text = path.read_text()
        assert not re.search(r"^\s*(def|class) ", text, re.M), path.name
