"""Reading run logs: dbt run_results.json from real dbt runs, Airflow task instances (csv and the REST API's JSON),
generic logs in their many shapes, and one-line errors for logs that cannot be mapped.

The Airflow fixtures are written here; what each row must become is stated beside it (``AIRFLOW_EXPECTED``).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evtools.analyses.runs_read import LogSpec, read_log
from evtools.core.errors import DataError
from evtools.engines.queries import run
from evtools.engines.sources import connect
from tests.conftest import dbt

DBT = Path(__file__).parent / "fixtures" / "dbt_runs"


def _read(paths, **kw) -> tuple[pd.DataFrame, object]:
    con = connect()
    info = read_log(con, LogSpec(tuple(str(p) for p in paths), **kw))
    return run(con, "runs_frame"), info


def _dbt_expected(files) -> pd.DataFrame:
    """Reference: each result of each run_results.json, read with Python's json module."""
    rows = []
    for f in files:
        doc = json.loads(Path(f).read_text())
        for r in doc["results"]:
            started = (
                r["timing"][0]["started_at"] if r["timing"] else doc["metadata"]["invocation_started_at"]
            )
            rows.append(
                {
                    "job": r["unique_id"],
                    "run_id": doc["metadata"]["invocation_id"],
                    "seconds": r["execution_time"],
                    "started_at": pd.Timestamp(started).tz_convert(None),
                    "status_raw": r["status"],
                }
            )
    return pd.DataFrame(rows).sort_values(["job", "run_id"]).reset_index(drop=True)


def _check_dbt(frame: pd.DataFrame, files) -> None:
    want = _dbt_expected(files)
    got = frame.sort_values(["job", "run_id"]).reset_index(drop=True)
    assert list(got["job"]) == list(want["job"]) and list(got["run_id"]) == list(want["run_id"])
    assert list(got["seconds"]) == list(want["seconds"])  # exactly as dbt wrote them
    assert list(got["started_at"]) == list(want["started_at"])
    outcome = {"success": "ok", "pass": "ok", "fail": "ok", "error": "failed", "skipped": "skipped"}
    assert list(got["status"]) == [outcome[s] for s in want["status_raw"]]


def test_dbt_run_results_of_two_real_runs(tmp_path):
    files = sorted((DBT / "run_results").glob("*.json"))
    frame, info = _read([DBT / "run_results"])
    assert info.format == "dbt" and len(info.files) == 2 and len(frame) == 12
    _check_dbt(frame, files)
    orders = frame[frame["job"] == "model.jobs.orders"].sort_values("run_no")
    assert list(orders["run_no"]) == [1, 2] and orders["started_at"].is_monotonic_increasing


def test_dbt_format_is_checked(tmp_path):
    log = tmp_path / "runs.csv"
    log.write_text("started_at,seconds\n2026-01-01,1\n")
    with pytest.raises(DataError, match="not a dbt run_results.json"):
        _read([log], format="dbt")
    with pytest.raises(DataError, match="--format airflow, but the file is dbt run_results.json"):
        _read([DBT / "run_results"], format="airflow")


@pytest.mark.slow
def test_dbt_run_now_and_read_its_run_results(tmp_path, monkeypatch):
    """Run the fixture project with dbt-duckdb (in this process, as ``dbt build`` runs it) into tmp_path, then read
    what that run wrote."""
    if importlib.util.find_spec("dbt.cli") is None:
        pytest.skip("dbt is not installed (pip install -e '.[dev]' installs dbt-core and dbt-duckdb)")
    project = tmp_path / "project"
    shutil.copytree(DBT / "project", project)
    monkeypatch.setenv("EVTOOLS_DBT_DB", str(tmp_path / "jobs.duckdb"))
    done, out = dbt(project, "build", "--vars", "{orders: 50000}", target=tmp_path)
    assert not done.success and "ERROR=2 SKIP=1" in out, out[-2000:]  # broken fails, after_broken skipped
    produced = tmp_path / "target" / "run_results.json"
    frame, info = _read([produced])
    assert info.format == "dbt" and len(frame) == 6
    _check_dbt(frame, [produced])


AIRFLOW_CSV = """\
task_id,dag_id,run_id,map_index,start_date,end_date,duration,state,try_number,hostname,operator
extract,etl,scheduled__2024-05-01T00:00:00+00:00,-1,2024-05-01 00:00:05.000000+00,2024-05-01 00:01:05.500000+00,60.5,success,1,w1,PythonOperator
load,etl,scheduled__2024-05-01T00:00:00+00:00,-1,2024-05-01 00:01:10+00,2024-05-01 00:01:40+00,30.0,success,1,w1,PythonOperator
extract,etl,scheduled__2024-05-02T00:00:00+00:00,-1,2024-05-02 00:00:05+00,2024-05-02 00:02:05+00,120.0,failed,2,w2,PythonOperator
load,etl,scheduled__2024-05-02T00:00:00+00:00,-1,,,,upstream_failed,0,,PythonOperator
extract,etl,scheduled__2024-05-03T00:00:00+00:00,-1,2024-05-03 00:00:05+00,,,running,1,w1,PythonOperator
load,etl,manual__2024-05-03T09:00:00+00:00,-1,2024-05-03 09:00:00+02,2024-05-03 08:00:00+00,3600.0,up_for_retry,1,w2,PythonOperator
"""
# job, run_no, seconds, status, started_at (UTC): what each timed row must become; the upstream_failed row never
# started and is left out.
AIRFLOW_EXPECTED = [
    ("etl.extract", 1, 60.5, "ok", "2024-05-01 00:00:05"),
    ("etl.extract", 2, 120.0, "failed", "2024-05-02 00:00:05"),
    ("etl.extract", 3, None, "unfinished", "2024-05-03 00:00:05"),
    ("etl.load", 1, 30.0, "ok", "2024-05-01 00:01:10"),
    ("etl.load", 2, 3600.0, "failed", "2024-05-03 07:00:00"),
]


def _airflow_check(frame, info) -> None:
    assert info.format == "airflow" and info.untimed == 1
    got = [
        (r.job, r.run_no, None if pd.isna(r.seconds) else r.seconds, r.status, str(r.started_at))
        for r in frame.itertuples()
    ]
    assert got == AIRFLOW_EXPECTED


def test_airflow_task_instance_csv(tmp_path):
    path = tmp_path / "task_instance.csv"
    path.write_text(AIRFLOW_CSV)
    _airflow_check(*_read([path]))


def test_airflow_rest_api_json_in_two_pages(tmp_path):
    frame = pd.read_csv(pd.io.common.StringIO(AIRFLOW_CSV), dtype=str, keep_default_na=False)
    instances = []
    for r in frame.to_dict("records"):
        iso = {k: (pd.Timestamp(r[k]).isoformat() if r[k] else None) for k in ("start_date", "end_date")}
        instances.append(
            {"task_id": r["task_id"], "dag_id": r["dag_id"], "dag_run_id": r["run_id"], "map_index": -1,
             "duration": float(r["duration"]) if r["duration"] else None, "state": r["state"],
             "try_number": int(r["try_number"]), "note": None, "rendered_fields": {}, **iso}
        )  # fmt: skip
    folder = tmp_path / "api"
    folder.mkdir()
    for page, part in enumerate((instances[:4], instances[4:])):
        doc = {"task_instances": part, "total_entries": len(instances)}
        (folder / f"page_{page}.json").write_text(json.dumps(doc))
    frame, info = _read([folder])
    _airflow_check(frame, info)
    assert set(frame["run_id"]) >= {"scheduled__2024-05-01T00:00:00+00:00"}


def _csv(tmp_path, text: str, name: str = "runs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_generic_shapes(tmp_path):
    # epoch seconds, a duration in ms (from the name), no job column (the file's name), no status (all ok)
    frame, info = _read(
        [_csv(tmp_path, "start,duration_ms\n1767225600,1500\n1767312000,2500\n", "nightly.csv")]
    )
    assert list(frame["job"]) == ["nightly", "nightly"] and list(frame["seconds"]) == [1.5, 2.5]
    assert str(frame["started_at"][0]) == "2026-01-01 00:00:00" and set(frame["status"]) == {"ok"}
    assert info.mapping == {"started_at": "start", "seconds": "duration_ms"}
    # the unit given wins over the name; epoch milliseconds
    frame, _ = _read([_csv(tmp_path, "start,duration_ms\n1767225600000,3\n")], duration_unit="min")
    assert list(frame["seconds"]) == [180.0] and str(frame["started_at"][0]) == "2026-01-01 00:00:00"
    # only start and end: the duration is their difference
    frame, _ = _read(
        [_csv(tmp_path, "job,start_time,end_time\na,2026-01-01 00:00:00,2026-01-01 00:01:30.25\n")]
    )
    assert list(frame["seconds"]) == [90.25]
    # only an end and a duration: the start is derived
    frame, _ = _read([_csv(tmp_path, "job,finished_at,seconds,status\na,2026-01-01 00:01:00,60,weird\n")])
    assert str(frame["started_at"][0]) == "2026-01-01 00:00:00" and list(frame["status"]) == ["other"]


def test_statuses_in_one_vocabulary(tmp_path):
    words = {"SUCCESS": "ok", "Succeeded": "ok", "error": "failed", "killed": "failed", "TIMED_OUT": "timeout",
             "timeout": "timeout", "skipped": "skipped", "queued": "unfinished", "exit 1": "ok", "exit 2": "skipped",
             "failed: KeyboardInterrupt": "failed", "???": "other"}  # fmt: skip
    lines = "".join(f"j,2026-01-{i + 1:02d},1,{w}\n" for i, w in enumerate(words))
    frame, _ = _read([_csv(tmp_path, "job,started_at,seconds,status\n" + lines)])
    assert list(frame["status"]) == list(words.values())
    assert list(frame["status_raw"]) == list(words)


def test_several_files_by_glob(tmp_path):
    for day in (1, 2):
        _csv(tmp_path, f"job,started_at,seconds\na,2026-01-0{day},{day}\n", f"part{day}.csv")
    frame, info = _read([str(tmp_path / "part*.csv")])
    assert len(info.files) == 2 and list(frame["seconds"]) == [1.0, 2.0] and list(frame["run_no"]) == [1, 2]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.csv": "job,started_at,seconds\n"}, "no runs in the log"),
        ({"a.csv": "job,started_at,seconds\na,,1\n"}, "none of its 1 rows has a start or an end time"),
        ({"a.csv": "job,started_at,seconds\na,soon,1\n"}, "column 'started_at' (runs.started_at): expected timestamps, found 'soon'"),
        ({"a.csv": "job,started_at,seconds\na,2026-01-01,fast\n"}, "column 'seconds' (runs.seconds): expected numbers, found 'fast'"),
        ({"a.jsonl": '{"job": {"x": 1}, "started_at": "2026-01-01", "seconds": 1}\n'}, "column 'job' (runs.job): expected text or a number"),
        ({"a.json": "[1, 2, 3]"}, "expected JSON objects"),
        ({"a.csv": "job,started_at,seconds\n", "b.json": "{}"}, "expected one file format"),
        ({"a.parquet": "x"}, "no run log file matches (expected .csv, .json or .jsonl files)"),
    ],
)  # fmt: skip
def test_unreadable_logs_say_what_and_where(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(DataError) as err:
        _read([tmp_path])
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_a_file_of_another_format_named_directly(tmp_path):
    path = _csv(tmp_path, "x", "runs.parquet")
    with pytest.raises(
        DataError, match="runs.parquet: cannot tell the run log's format; expected .csv, .json or .jsonl"
    ):
        _read([path])
