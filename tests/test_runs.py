"""evtools runs against the run-log generator's ground truth (evtools.runs_sample): every flagged run, every verdict,
every timeout and no-op run exactly; the figures within the noise the generator adds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evtools.analyses import runs, runs_sample
from evtools.app.cli import main
from evtools.core.config import load_config
from evtools.present import runs_text
from tests.conftest import write_config

JOBS = ("warehouse.load_orders", "warehouse.rollup_daily", "crm.sync_contacts", "reports.refresh_dims")


def _log(tmp_path, fmt="csv", **spec):
    path, truth_path = runs_sample.write(runs_sample.RunLogSpec(**spec), tmp_path / "log", fmt)
    return path, json.loads(truth_path.read_text())


def _numbers(items: list[dict]) -> set[int]:
    return {i["run"] for i in items}


def _check_against_truth(result: runs.RunsResult, truth: dict) -> None:
    r, jobs = result.runs, result.jobs.set_index("job")
    assert set(jobs.index) == set(truth["jobs"])
    for job, want in truth["jobs"].items():
        part = r[r["job"] == job]
        assert jobs.loc[job, "verdict"] == want["verdict"], job
        assert bool(jobs.loc[job, "n_plus_one"]) == want["n_plus_one"], job
        assert set(part.loc[part["flag"] == "change point", "run_no"]) == _numbers(want["change_runs"]), job
        assert set(part.loc[part["flag"] == "slow run", "run_no"]) == _numbers(want["slow_runs"]), job
        assert set(part.loc[part["status"] == "timeout", "run_no"]) == _numbers(want["timeout_runs"]), job
        failed = _numbers(want["failed_runs"]) - _numbers(want["timeout_runs"])
        assert set(part.loc[part["status"] == "failed", "run_no"]) == failed, job
        assert set(part.loc[part["noop"], "run_no"]) == _numbers(want["noop_runs"]), job
        ids = set(part.loc[part["flag"] != "", "run_id"])
        assert ids == {i["run_id"] for i in want["change_runs"] + want["slow_runs"]}, job


@pytest.mark.parametrize("seed", [19, 3, 2026])
def test_findings_equal_the_injected_truth(tmp_path, seed):
    path, truth = _log(tmp_path, seed=seed)
    _check_against_truth(runs.investigate(None, str(path)), truth)


@pytest.mark.parametrize("step_run", [12, 77, 238])
def test_the_step_is_found_at_its_run_wherever_it_is(tmp_path, step_run):
    path, truth = _log(tmp_path, step_run=step_run)
    result = runs.investigate(None, str(path))
    _check_against_truth(result, truth)
    change = result.changes.iloc[0]
    assert change["run_id"] == f"warehouse.rollup_daily#{step_run}"


def test_figures_are_those_injected(tmp_path):
    path, truth = _log(tmp_path)
    result = runs.investigate(None, str(path))
    jobs = result.jobs.set_index("job")
    load = jobs.loc["warehouse.load_orders"]
    assert load["seconds_per_unit"] == pytest.approx(4e-6, rel=0.05)
    assert load["overhead_seconds"] == pytest.approx(3.0, rel=0.1)
    assert load["r2"] > 0.98 and load["volume_growth"] > 8
    change = result.changes.set_index("job").loc["warehouse.rollup_daily"]
    before, after = truth["jobs"]["warehouse.rollup_daily"]["seconds_per_row"]
    assert change["cost_before"] == pytest.approx(before, rel=0.1)
    assert change["cost_after"] == pytest.approx(after, rel=0.1)
    v = change["reference_volume"]
    assert change["ratio"] == pytest.approx((1.5 + after * v) / (1.5 + before * v), rel=0.1)
    assert change["volume_after"] / change["volume_before"] == pytest.approx(1.0, abs=0.05)
    assert change["p_adjusted"] < 1e-6
    sync = jobs.loc["crm.sync_contacts"]
    assert sync["timeout_seconds"] == pytest.approx(3600, abs=2)
    assert sync["rows_per_call"] == pytest.approx(1.0, abs=0.01)


def test_batch_arithmetic_from_the_latest_ok_run(tmp_path):
    path, _ = _log(tmp_path)
    log = pd.read_csv(path)
    job = log[(log["job"] == "crm.sync_contacts") & (log["status"] == "success")].iloc[-1]
    sync = runs.investigate(None, str(path), thresholds=runs.Thresholds(batch_size=500)).jobs.set_index("job")
    sync = sync.loc["crm.sync_contacts"]
    assert sync["latest_rows"] == job["rows"] and sync["latest_calls"] == job["calls"]
    assert sync["batched_calls"] == math.ceil(job["rows"] / 500)
    assert sync["batched_seconds"] == pytest.approx(
        math.ceil(job["rows"] / 500) * job["seconds"] / job["calls"]
    )


def test_n_plus_one_from_rows_alone(tmp_path):
    """Without a calls column: flagged by a constant cost per row of a round trip while rows grow 1,000x."""
    path, truth = _log(tmp_path)
    pd.read_csv(path).drop(columns=["calls"]).to_csv(path, index=False)
    result = runs.investigate(None, str(path))
    _check_against_truth(result, truth)
    assert result.jobs.set_index("job").loc["crm.sync_contacts", "n1_basis"] == "rows"


def test_copies_each_keep_their_truth(tmp_path):
    path, truth = _log(
        tmp_path, copies=3, runs=120, step_run=70, slow_run=30, failed_runs=(50,), noop_runs=(5,)
    )
    assert len(truth["jobs"]) == 12
    _check_against_truth(runs.investigate(None, str(path)), truth)


FOREIGN = {
    "job": "task_name",
    "run_id": "attempt",
    "started_at": "begin",
    "finished_at": "end",
    "seconds": "elapsed_ms",
    "rows": "n_records",
    "bytes": "payload",
    "calls": "db_queries",
    "status": "outcome",
}


def test_a_foreign_jsonl_log_through_the_config_mapping(tmp_path):
    """Renamed columns, durations in milliseconds and timestamps with a zone offset, mapped in [runs.columns]."""
    path, truth = _log(tmp_path, fmt="jsonl", columns=FOREIGN)
    log = pd.read_json(path, lines=True)
    log["elapsed_ms"] = (log["elapsed_ms"] * 1000).round(1)
    for c in ("begin", "end"):  # the same instants written in New York time
        log[c] = (
            pd.to_datetime(log[c], utc=True).dt.tz_convert("America/New_York").map(lambda t: t.isoformat())
        )
    log.to_json(path, orient="records", lines=True)
    mapping = "\n".join(f'{k} = "{v}"' for k, v in FOREIGN.items() if k not in ("finished_at", "seconds"))
    config = write_config(
        tmp_path,
        f'[sources]\nfact_events = "f.parquet"\n\n[runs]\nlog = "{path}"\n\n[runs.columns]\n{mapping}\n'
        'seconds = "elapsed_ms"\n',
    )
    result = runs.investigate(load_config(config))
    _check_against_truth(result, truth)
    assert result.source["mapping"]["seconds"] == "elapsed_ms"  # read in ms: from its name
    started = result.runs.set_index("run_id").loc["crm.sync_contacts#1", "started_at"]
    assert started == pd.Timestamp("2026-01-01 02:14:00")  # 02:14 UTC, whatever zone the log wrote


def test_jobs_named_by_two_columns_and_filtered_by_glob(tmp_path):
    path, truth = _log(tmp_path)
    log = pd.read_csv(path)
    log[["team", "task"]] = log["job"].str.split(".", expand=True)
    log.drop(columns=["job"]).to_csv(path, index=False)
    result = runs.investigate(None, str(path), columns={"job": ["team", "task"]}, jobs=["warehouse.*"])
    assert set(result.jobs["job"]) == {"warehouse.load_orders", "warehouse.rollup_daily"}
    assert set(result.changes["run_id"]) == {"warehouse.rollup_daily#150"}


def test_cli_writes_its_files_and_prints_the_findings(tmp_path, capsys):
    path, truth = _log(tmp_path)
    out = tmp_path / "out"
    assert main(["runs", "--log", str(path), "--out", str(out), "--config", str(tmp_path / "none.toml")]) == 0
    text = capsys.readouterr().out
    assert "warehouse.rollup_daily got" in text and "at run #150 (2026-05-30)" in text
    assert "crm.sync_contacts makes one call per row (N+1)" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["change_points"] == 1 and summary["n_plus_one"] == 1
    assert summary["verdicts"]["volume-driven"] == 2 and summary["timeouts"] == 7
    changes = pd.read_csv(out / "changes.csv")
    assert list(changes["run_no"]) == [150]
    assert len(pd.read_parquet(out / "runs.parquet")) == 4 * 250


def test_unmappable_log_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("started_at,what\n2026-01-01,x\n")
    code = main(
        ["runs", "--log", str(bad), "--out", str(tmp_path / "o"), "--config", str(tmp_path / "none.toml")]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert str(bad) in err and "no duration column" in err and "found columns: started_at, what" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--column", "started"], "--column 'started': expected NAME=COLUMN"),
        (["--column", "start=x"], "unknown column key 'start'"),
        (["--column", "started_at=nope"], "column 'nope' (runs.started_at) not found"),
        (["--min-ratio", "0.5"], "expected a number above 1"),
        (["--format", "dbt"], "not a dbt run_results.json"),
        (["--job", "nothing*"], "no job matches nothing*"),
    ],
)
def test_bad_runs_arguments_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    path, _ = _log(tmp_path)
    assert main(["runs", "--log", str(path), "--config", str(tmp_path / "none.toml"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def _own(records: list[dict], folder) -> str:
    path = folder / ".evtools" / "runs.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_evtools_own_log_leaves_no_op_and_failed_runs_out_of_the_fit(tmp_path):
    """evtools' own records: refresh runs that read nothing, usage errors (exit 2) and interrupted runs are not
    fitted; a failed check (exit 1) ran to the end and is."""
    rng = np.random.default_rng(8)
    records, fitted = [], []
    for day in range(40):
        rows = int(1_000_000 * (1 + day / 10))
        seconds = round((0.5 + 2e-6 * rows) * (1 + rng.normal(0, 0.02)), 3)
        status = "exit 1" if day % 9 == 4 else "ok"
        records.append(
            {"command": "quality", "parameters": {}, "started_at": f"{pd.Timestamp('2026-02-01') + pd.Timedelta(days=day):%Y-%m-%dT%H:%M:%S}",
             "seconds": seconds, "peak_rss_mb": 300.0, "status": status, "rows_read": rows, "bytes_read": rows * 9}
        )  # fmt: skip
        fitted.append((rows, seconds))
    records += [
        {"command": "refresh", "started_at": "2026-02-03T05:00:00", "seconds": 0.2, "status": "ok", "rows_read": 0},
        {"command": "quality", "started_at": "2026-02-05T05:00:00", "seconds": 0.1, "status": "exit 2"},
        {"command": "quality", "started_at": "2026-02-06T05:00:00", "seconds": 9.0, "status": "exit 130",
         "rows_read": 2_000_000},
        {"command": "sql", "started_at": "2026-02-07T05:00:00", "seconds": 0.3, "status": "ok"},
    ]  # fmt: skip
    _own(records, tmp_path)
    config = write_config(tmp_path, '[sources]\nfact_events = "f.parquet"\n')
    result = runs.investigate(load_config(config))
    assert result.source["format"] == "evtools"
    quality = result.runs[result.runs["job"] == "quality"]
    assert quality["fitted"].sum() == 40
    assert set(quality.loc[~quality["fitted"], "status"]) == {"skipped", "failed"}
    refresh = result.runs[result.runs["job"] == "refresh"]
    assert refresh["noop"].all() and not refresh["fitted"].any()
    v, d = np.array(fitted, dtype=float).T
    cost, overhead = np.polyfit(v, d, 1, w=1 / v)
    job = result.jobs.set_index("job").loc["quality"]
    assert job["seconds_per_unit"] == pytest.approx(cost, rel=1e-6)
    assert job["overhead_seconds"] == pytest.approx(overhead, rel=1e-6)
    assert job["verdict"] == "volume-driven" and job["change_points"] == 0 and job["volume_growth"] > 3


def test_own_log_absent_is_an_empty_history(tmp_path):
    config = write_config(tmp_path, '[sources]\nfact_events = "f.parquet"\n')
    result = runs.investigate(load_config(config))
    assert len(result.runs) == 0 and result.summary()["runs"] == 0
    assert runs_text.markdown(result).startswith("No runs recorded yet")


def test_report_and_slack_hooks_carry_the_findings(tmp_path):
    """A job log's findings reach the report's "what is wrong" and the Slack update; evtools' own log's do not."""
    import datetime as dt

    from evtools.app import notify
    from evtools.present import findings

    path, _ = _log(tmp_path)
    record = json.loads(json.dumps(runs.investigate(None, str(path)).summary(), default=str))
    found = findings.summarise("investigation", dt.date(2026, 9, 8), {"history": record}, [])
    titles = [f.title for f in found.job_runs]
    assert any(t.startswith("warehouse.rollup_daily got") for t in titles)
    assert titles[0] == "crm.sync_contacts makes one call per row (N+1)"  # the largest share of time saved
    run = {"kind": "investigation", "date": "2026-09-08", "status": "ok", "records": {"history": record}}
    text = notify.compose(run, "http://x")["text"]
    assert "job runs* (4 jobs, 1,000 runs: 1 code-driven, 2 volume-driven, 1 stable; 1 N+1; 7 timeouts)" in text
    assert "Write in batches of 1,000 rows" in text
    own = record | {"source": {"format": "evtools"}}
    assert findings.summarise("investigation", dt.date(2026, 9, 8), {"history": own}, []).job_runs == ()
    assert "job runs" not in notify.compose(run | {"records": {"history": own}}, "http://x")["text"]


def test_config_runs_table_is_checked(tmp_path):
    from evtools.core.errors import ConfigError

    base = '[sources]\nfact_events = "f.parquet"\n'
    for text, message in [
        ("[runs]\nformat = 'xml'\n", "runs.format: expected one of auto, generic, dbt, airflow, evtools"),
        ("[runs]\nwhat = 1\n", "unknown key 'runs.what'"),
        ("[runs.columns]\nstart = 'x'\n", "unknown key 'runs.columns.start'"),
        ("[runs.columns]\nseconds = ['a', 'b']\n", "runs.columns.seconds: expected a column name string"),
        ("[runs]\nduration_unit = 'days'\n", "runs.duration_unit: expected one of s, ms, us, min, h"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_config(write_config(tmp_path, base + text))
    config = load_config(
        write_config(tmp_path, base + "[runs]\nlog = 'x.csv'\n[runs.columns]\njob = ['a', 'b']\n")
    )
    assert config.runs.log == "x.csv" and config.runs.columns["job"] == ["a", "b"]


def test_runs_reads_what_evtools_commands_recorded(tmp_path, sample_dir, capsys):
    text = (sample_dir / "evtools.toml").read_text()
    for name in ("fact_events/", "api_daily", "dashboard"):
        text = text.replace(f'"{name}', f'"{sample_dir}/{name}')
    config = write_config(tmp_path, text)
    for _ in range(2):
        assert main(["sources", "--config", str(config)]) == 0
    assert main(["sources", "--config", str(tmp_path / "missing.toml")]) == 2  # no config: nothing recorded
    capsys.readouterr()
    assert main(["runs", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"Read 2 runs of 1 job from {tmp_path / '.evtools' / 'runs.jsonl'} (evtools log)" in out
    assert "1 too few runs" in out


@pytest.mark.slow
def test_notebook_06_on_a_job_log(tmp_path, sample_dir):
    """The investigation's run-history page on a generated log: the findings reach the page, the index and run.json."""
    import re
    import shutil

    from evtools.app import reports

    path, _ = _log(tmp_path)
    folder = tmp_path / "sample"
    shutil.copytree(sample_dir, folder, ignore=shutil.ignore_patterns(".evtools"))
    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    record = reports.run_report(
        "investigation", folder / "evtools.toml", tmp_path / "r", notebooks, params={"run_log": str(path)},
        only=["06_run_history"],
    )  # fmt: skip
    history = record["records"]["history"]
    assert history["runs"] == 1000 and history["change_points"] == 1 and history["n_plus_one"] == 1
    run_dir = tmp_path / "r" / record["date"] / "investigation"
    page = (run_dir / "06_run_history.html").read_text()
    assert "warehouse.rollup_daily got 2." in page and "at run #150 (2026-05-30)" in page
    assert len(re.findall(r'src="data:image/png;base64', page)) == 1 and "import " not in page
    index = (run_dir / "index.html").read_text()
    assert "crm.sync_contacts makes one call per row (N+1)" in index


def test_a_small_step_is_reported_only_above_min_ratio(tmp_path):
    """A 1.2x step in the cost per row (1.14x of a run's time at the volume there) is significant but below the
    default 1.5x; with --min-ratio 1.1 it is found at its run."""
    path, _ = _log(tmp_path, step_factor=1.2, step_run=120)
    assert runs.investigate(None, str(path)).changes.empty
    small = runs.investigate(None, str(path), thresholds=runs.Thresholds(min_ratio=1.1)).changes
    assert list(small["run_id"]) == ["warehouse.rollup_daily#120"]
    assert small["ratio"].iloc[0] == pytest.approx(1.14, abs=0.03)
