"""Great Expectations suites: the clean data passes; each fault family fails its own expectation with the injected
count; a broken suite file is a clear error naming it."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pandas as pd
import pytest

from evtools.analyses import expectations as ex
from evtools.analyses import refresh
from evtools.analyses.sample import SampleSpec, generate
from evtools.core.config import load_config
from evtools.core.errors import ConfigError
from evtools.engines import aggfile

ROOT = ex.Path(__file__).resolve().parents[1]
SUITES = ROOT / "expectations"
DAY = dt.date(2026, 1, 5)
CLEAN = dict(
    rows=6_000,
    companies=4,
    days=8,
    seed=3,
    retry_rate=0,
    replay_rate=0,
    correction_rate=0,
    late_rate=0,
    missing_rate=0,
    tz_companies=0,
)
pytestmark = pytest.mark.slow


def _sample(tmp_path, **rates):
    meta = generate(SampleSpec(**{**CLEAN, **rates}), tmp_path / "s", progress=False)
    return load_config(tmp_path / "s" / "evtools.toml"), meta


def _failed(result) -> dict:
    r = result.results
    return {(f.suite, f.expectation, f.column): f for f in r[~r["success"]].itertuples()}


def test_clean_data_passes_every_suite(tmp_path):
    config, meta = _sample(tmp_path)
    refresh.refresh(config)
    as_of = dt.datetime.fromisoformat(meta["snapshot"])
    result = ex.validate(config, dates=[DAY], folder=SUITES, as_of=as_of, docs=tmp_path / "docs")
    assert result.success, result.results[~result.results["success"]]
    assert set(result.results["suite"]) == set(ex.SUITES)
    assert len(result.results) == 19  # with fact_events' row count and rows from the future
    assert (tmp_path / "docs" / "index.html").is_file()


def test_duplicates_fail_with_the_injected_count(tmp_path):
    config, meta = _sample(tmp_path, retry_rate=0.02, replay_rate=0.05)
    truth = pd.read_parquet(tmp_path / "s" / "ground_truth.parquet")
    want = int(truth[pd.to_datetime(truth["date"]).dt.date == DAY]["duplicate_rows"].sum())
    result = ex.validate(
        config, ("fact_events",), [DAY], SUITES, as_of=dt.datetime.fromisoformat(meta["snapshot"])
    )
    failed = _failed(result)
    assert want > 0 and list(failed) == [("fact_events", "expect_column_sum_to_be_between", "extra")]
    assert failed[("fact_events", "expect_column_sum_to_be_between", "extra")].observed == want


def test_late_rows_fail_the_lateness_expectation(tmp_path):
    _, meta = _sample(tmp_path, late_rate=0.2)
    # a lookback covering 90% of events leaves some of the date's rows beyond it; more than 0.1% fails
    config = load_config(tmp_path / "s" / "evtools.toml", overrides={"coverage_target": 0.9})
    result = ex.validate(
        config, ("fact_events",), [DAY], SUITES, as_of=dt.datetime.fromisoformat(meta["snapshot"])
    )
    failed = _failed(result)
    assert list(failed) == [("fact_events", "expect_column_values_to_be_between", "late_share")]
    lookback = result.summary["recommended_lookback_days"]
    fact = (
        duckdb.connect()
        .execute(
            "SELECT count(*) FILTER (WHERE date_diff('day', date, CAST(ingested_at AS DATE)) > $k) FROM read_parquet($p) "
            "WHERE date = $d",
            {"k": lookback, "p": str(tmp_path / "s" / "fact_events" / "*.parquet"), "d": DAY},
        )
        .fetchall()[0][0]
    )
    assert (
        fact > 0
        and f"{fact} of "
        in failed[("fact_events", "expect_column_values_to_be_between", "late_share")].evidence
    )


def test_nulls_and_negative_events_fail_with_their_counts(tmp_path):
    config, meta = _sample(tmp_path)
    files = sorted((tmp_path / "s" / "fact_events").glob("*.parquet"))
    con = duckdb.connect()
    target = files[4]  # ingested on 2026-01-05: mostly rows of that date
    frame = con.execute("SELECT * FROM read_parquet($p)", {"p": str(target)}).df()
    on_day = frame.index[frame["date"] == pd.Timestamp(DAY)]
    frame.loc[on_day[:3], "company_id"] = None
    frame.loc[on_day[3:8], "events"] = -1
    frame["company_id"] = frame["company_id"].astype("Int64")
    frame.to_parquet(target)
    result = ex.validate(
        config, ("fact_events",), [DAY], SUITES, as_of=dt.datetime.fromisoformat(meta["snapshot"])
    )
    failed = _failed(result)
    assert failed[("fact_events", "expect_column_values_to_not_be_null", "company_id")].unexpected_count == 3
    assert failed[("fact_events", "expect_column_values_to_be_between", "events")].unexpected_count == 5


def test_duplicate_api_keys_and_stale_data_fail(tmp_path):
    config, meta = _sample(tmp_path)
    api = pd.read_csv(tmp_path / "s" / "api_daily.csv")
    extra = api[api["date"] == DAY.isoformat()].head(2)
    pd.concat([api, extra]).to_csv(tmp_path / "s" / "api_daily.csv", index=False)
    late_run = dt.datetime.fromisoformat(meta["snapshot"]) + dt.timedelta(days=3)
    result = ex.validate(config, ("api_daily", "fact_events"), [DAY], SUITES, as_of=late_run)
    failed = _failed(result)
    keys = failed[("api_daily", "expect_column_values_to_be_between", "n")]
    assert keys.unexpected_count == 2 and str(DAY) in keys.evidence
    assert ("fact_events", "expect_column_values_to_be_between", "hours_since_newest") in failed


def test_aggregate_total_differing_from_the_source_fails(tmp_path):
    config, meta = _sample(tmp_path, retry_rate=0.05)
    refresh.refresh(config)
    # the published aggregate (the snapshot readers open) is what the suite validates
    con = duckdb.connect(str(aggfile.snapshot_path(config.aggregate_db)))
    con.execute(
        "UPDATE agg_company_daily_events SET events = events + 7 WHERE date = $d AND company_id = 1001",
        {"d": DAY},
    )
    con.close()
    result = ex.validate(config, ("agg_company_daily_events",), [DAY], SUITES)
    failed = _failed(result)
    assert list(failed) == [
        (
            "agg_company_daily_events",
            "expect_column_pair_values_to_be_equal",
            "aggregate_events=source_events",
        )
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"name": "x"}', "'expectations' list"),
        ('{"expectations": [{"type": "expect_x", "meta": {"batch": "nope"}}]}', "meta.batch"),
    ],
)
def test_broken_suite_file_names_the_file(tmp_path, content, message):
    folder = tmp_path / "suites"
    shutil.copytree(SUITES, folder)
    (folder / "fact_events.json").write_text(content)
    config, _ = _sample(tmp_path)
    with pytest.raises(ConfigError) as err:
        ex.validate(config, ("fact_events",), [DAY], folder)
    assert str(folder / "fact_events.json") in str(err.value) and message in str(err.value)


def test_validate_cli_exit_codes(tmp_path, capsys):
    from evtools.app.cli import main

    config, meta = _sample(tmp_path)
    args = [
        "validate",
        "--config",
        str(config.path),
        "--suites",
        str(SUITES),
        "--date",
        str(DAY),
        "--suite",
        "fact_events",
        "--as-of",
        meta["snapshot"],
    ]
    assert main([*args, "--out", str(tmp_path / "v")]) == 0
    assert json.loads((tmp_path / "v" / "validation.json").read_text())["summary"]["success"] is True
    assert main([*args[:-1], "2026-06-01"]) == 1  # months later: stale
    assert "expectations failed" in capsys.readouterr().err
    assert main(["validate", "--config", str(tmp_path / "none.toml")]) == 2


@pytest.mark.parametrize("first", ["", "import pyspark.sql\n"], ids=["alone", "after-pyspark"])
def test_validation_from_python_dash_c(sample_config, first):
    """A scheduler's `python -c` (or a pytest-xdist worker) has a __main__ without a file: importing Great
    Expectations there must not end the process before the validation ran (pyspark.sql.connect, which GX imports when
    pyspark is installed, exits 0 in such a process when grpc is missing), also when pyspark itself was imported
    before (a Spark engine in the same process): the failed count printed is the one the same validation gives
    here."""
    import subprocess
    import sys

    day = dt.date(2026, 1, 10)
    code = first + (
        "import datetime as dt, sys\n"
        "from evtools import expectations\nfrom evtools.config import load_config\n"
        "r = expectations.validate(load_config(sys.argv[1]), ('fact_events',), [dt.date(2026, 1, 10)],\n"
        "                          as_of=dt.datetime(2026, 1, 11))\n"
        "print('failed', r.summary['failed'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(sample_config.path)], capture_output=True, text=True, timeout=600
    )
    here = ex.validate(sample_config, ("fact_events",), [day], as_of=dt.datetime(2026, 1, 11))
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"failed {here.summary['failed']}" in out.stdout, out.stderr[-2000:]
