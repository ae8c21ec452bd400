"""The Spark engine gives DuckDB's figures, key by key: quality, reconciliation, explain and the refreshed aggregate.

Compared on the committed sample, on the sample with a mapped version column, and (the refresh) on a generated
2M-row set with time-ordered ids (local[2] master; Java from the machine).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest

from evtools.analyses import quality, reconcile, refresh
from evtools.analyses.refresh import FAULT_ENV
from evtools.app.cli import main
from evtools.core.config import load_config
from evtools.core.errors import DataError
from evtools.engines import spark
from evtools.engines.sources import open_sources

pytestmark = pytest.mark.spark


def on_spark(config, tmp_path=None):
    engine = {"kind": "spark"}
    if tmp_path is not None:
        engine["aggregate_path"] = str(tmp_path / "lake")
    return dataclasses.replace(config, engine=dataclasses.replace(config.engine, **engine))


@pytest.fixture(scope="module")
def versioned_config(tmp_path_factory, sample_dir):
    """The sample with a mapped version column (``rev``, 0-3, unrelated to arrival order), so the greatest version
    wins over the most recent arrival for many corrected events."""
    import shutil

    import duckdb

    folder = tmp_path_factory.mktemp("versioned")
    for name in ("api_daily.csv", "dashboard.parquet"):
        shutil.copy(sample_dir / name, folder / name)
    (folder / "fact_events").mkdir()
    duckdb.execute(
        "COPY (SELECT *, (event_id * 7 + hour(ingested_at) + events) % 4 AS rev FROM read_parquet($p)) TO $out "
        "(FORMAT parquet)",
        {"p": str(sample_dir / "fact_events" / "*.parquet"), "out": str(folder / "fact_events" / "all.parquet")},
    )
    text = (sample_dir / "evtools.toml").read_text()
    (folder / "evtools.toml").write_text(text + '\n[columns.fact_events]\nversion = "rev"\n')
    return load_config(folder / "evtools.toml")


SETS = {"sample": "sample_config", "2M": "large_config", "versioned": "versioned_config"}
# the analyses on the sample and on the versioned sample; the refresh also on the 2M set, whose time-ordered ids
# take the other lookup (the runs over it are the suite's longest, so they are few)
ANALYSED = pytest.mark.parametrize("config", ["sample", "versioned"], indirect=True)
REFRESHED = pytest.mark.parametrize(
    "config, steps",
    [
        ("sample", (0.5, 0.6, 0.61, 0.61, None)),
        ("2M", (0.6, None)),
        ("versioned", (0.5, None)),
    ],
    indirect=["config"],
)


@pytest.fixture(scope="module")
def config(request):
    """The set named by the test's parameter (made only when a test asks for it)."""
    return request.getfixturevalue(SETS[request.param])


@pytest.fixture(scope="module")
def cons(config):
    """(DuckDB connection, SparkConnection) over the same sources."""
    return open_sources(config), spark.connect(on_spark(config))


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert list(left.columns) == list(right.columns)
    pd.testing.assert_frame_equal(
        left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False
    )


@ANALYSED
def test_quality_figures_are_duckdbs(config, cons):
    duck, sp = cons
    expected = quality.analyse(duck, config)
    got = quality.analyse(sp, on_spark(config))
    assert len(got.frame()) == len(expected.frame()) > 0
    assert_same_frame(got.frame(), expected.frame())
    assert got.summary == expected.summary
    assert expected.summary["duplicate_excess"] > 0 and expected.summary["correction_excess"] > 0
    assert_same_frame(got.replayed_loads, expected.replayed_loads)
    assert_same_frame(got.arrival_lag, expected.arrival_lag)


@ANALYSED
def test_reconciliation_waterfalls_are_duckdbs(config, cons):
    duck, sp = cons
    expected = reconcile.reconcile(duck, config)
    got = reconcile.reconcile(sp, on_spark(config))
    assert_same_frame(got.frame(), expected.frame())
    assert got.summary == expected.summary
    assert expected.summary["mismatched"] > 0 and expected.summary["keys_by_cause"].get("timezone", 0) > 0


@ANALYSED
def test_explain_rows_are_duckdbs(config, cons):
    duck, sp = cons
    worst = reconcile.reconcile(duck, config).summary["worst_keys"][0]
    company, day = str(worst["company_id"]), worst["date"]
    expected = reconcile.explain(duck, config, company, day)
    got = reconcile.explain(sp, on_spark(config), company, day)
    assert got.waterfall == expected.waterfall
    assert_same_frame(got.rows, expected.rows)
    assert set(expected.rows["role"]) >= {"counted", "duplicate"}


@REFRESHED
def test_refresh_touched_matches_duckdb_run_by_run(config, steps, cons, tmp_path):
    duck, sp = cons
    spark_config = on_spark(config, tmp_path)
    newest = duck.execute("SELECT max(ingested_at) FROM fact_events").fetchall()[0][0]
    first = duck.execute("SELECT min(ingested_at) FROM fact_events").fetchall()[0][0]
    span = newest - first
    untils = [None if f is None else first + span * f for f in steps]
    modes = []
    for until in untils:
        got = refresh.refresh(spark_config, until=until, con=sp)
        expected = refresh.refresh(config, tmp_path / "agg.duckdb", until=until)
        assert (got.mode, got.rows_read, got.keys_changed, got.dates_recomputed) == (
            expected.mode,
            expected.rows_read,
            expected.keys_changed,
            expected.dates_recomputed,
        )
        assert_same_frame(
            refresh.table(spark_config, con=sp).drop(columns="refreshed_at"),
            refresh.table(config, tmp_path / "agg.duckdb").drop(columns="refreshed_at"),
        )
        modes.append(got.mode)
    assert refresh.verify(spark_config, con=sp).empty
    expected_modes = ["full", "incremental", "incremental", "noop", "incremental"]
    assert modes == (expected_modes if len(steps) == 5 else ["full", "incremental"])


def test_refresh_rewrites_only_touched_partitions(sample_config, tmp_path):
    config = on_spark(sample_config, tmp_path)
    con = spark.connect(config, names=("fact_events",))
    refresh.refresh(config, until=dt.datetime(2026, 2, 1), con=con)
    lake = tmp_path / "lake" / "agg"
    before = {p.name: p.stat().st_mtime_ns for p in lake.iterdir() if p.name.startswith("date=")}
    run = refresh.refresh(config, until=dt.datetime(2026, 2, 2), con=con)
    after = {p.name: p.stat().st_mtime_ns for p in lake.iterdir() if p.name.startswith("date=")}
    changed = {name for name in after if before.get(name) != after[name]}
    assert run.mode == "incremental" and 0 < len(changed) < len(before)
    agg = refresh.table(config, con=con)
    rewritten = agg[agg["refreshed_at"] == agg["refreshed_at"].max()]["date"]
    assert changed == {f"date={d.date().isoformat()}" for d in rewritten}


@pytest.mark.parametrize("point", ["before_commit", "mid_apply"])
def test_refresh_interrupted_run_is_discarded_or_finished(sample_config, tmp_path, monkeypatch, point):
    config = on_spark(sample_config, tmp_path)
    con = spark.connect(config, names=("fact_events",))
    refresh.refresh(config, until=dt.datetime(2026, 2, 1), con=con)
    monkeypatch.setenv(FAULT_ENV, f"raise:{point}")
    with pytest.raises(RuntimeError, match="injected fault"):
        refresh.refresh(config, until=dt.datetime(2026, 2, 20), con=con)
    monkeypatch.delenv(FAULT_ENV)
    state = json.loads((tmp_path / "lake" / "_state.json").read_text())
    assert state["watermark"] == "2026-02-01T00:00:00"  # the live state is the last committed run's
    run = refresh.refresh(config, until=dt.datetime(2026, 2, 20), con=con)
    # before COMMIT the staging is discarded and the run redone; after it the next run finds the work done
    assert run.mode == ("incremental" if point == "before_commit" else "noop")
    assert not (tmp_path / "lake" / "_staging").exists()
    assert refresh.verify(config, con=con).empty


def test_cli_engine_spark(sample_config, tmp_path, capsys):
    toml = (sample_config.path.read_text()).replace('"fact_events/', f'"{sample_config.root}/fact_events/')
    toml = toml.replace('"api_daily.csv"', f'"{sample_config.root}/api_daily.csv"')
    toml = toml.replace('"dashboard.parquet"', f'"{sample_config.root}/dashboard.parquet"')
    toml += '\n[engine]\nkind = "spark"\nmaster = "local[2]"\n\n[engine.conf]\n"spark.sql.shuffle.partitions" = 4\n'
    path = tmp_path / "evtools.toml"
    path.write_text(toml)
    assert main(["quality", "--config", str(path), "--out", str(tmp_path / "q")]) == 0
    summary = json.loads((tmp_path / "q" / "summary.json").read_text())
    duck = quality.analyse(open_sources(sample_config), sample_config).summary
    assert (
        summary["duplicate_excess"] == duck["duplicate_excess"]
        and summary["late_events"] == duck["late_events"]
    )
    assert main(["refresh", "--config", str(path)]) == 0
    assert main(["refresh", "--config", str(path), "--verify"]) == 0
    assert (tmp_path / ".evtools" / "aggregate" / "agg").is_dir()
    assert main(["refresh", "--config", str(path), "--strategy", "lookback"]) == 2
    assert "not available on the spark engine" in capsys.readouterr().err
    assert main(["refresh", "--config", str(path), "--engine", "duckdb"]) == 0  # the same config on DuckDB


def test_spark_parser_accepts_every_query(sample_config):
    """Spark's own SQL parser (not sqlglot's) reads every query as the engine runs it: a CREATE ... AS query runs
    its query (Spark allows no parameter markers in a view's body) and registers the result."""
    from sqlglot import exp

    from evtools.engines import dialects

    parser = spark.session(on_spark(sample_config))._jsparkSession.sessionState().sqlParser()
    for name in dialects.names():
        for statement in dialects.statements(name, "spark"):
            if isinstance(statement, exp.Create) and statement.expression is not None:
                statement = statement.expression
            parser.parsePlan(dialects.generate(statement, "spark"))


def test_catalog_table_source(sample_config, tmp_path):
    """table:NAME reads a table of the Spark catalog (here a view over the sample's files), mapped like any source."""
    session = spark.session(on_spark(sample_config))
    renamed = session.read.parquet(str(sample_config.root / "fact_events")).withColumnRenamed(
        "event_id", "uid"
    )
    renamed.createOrReplaceTempView("lake_fact_events")
    text = (
        '[sources]\nfact_events = "table:lake_fact_events"\n'
        '[columns.fact_events]\nevent_id = "uid"\n[engine]\nkind = "spark"\n'
    )
    path = tmp_path / "evtools.toml"
    path.write_text(text)
    config = load_config(path)
    got = quality.analyse(spark.connect(config), config).summary
    expected = quality.analyse(open_sources(sample_config, names=("fact_events",)), sample_config).summary
    for key in ("rows", "duplicate_excess", "correction_excess", "superseded_versions", "replayed_loads"):
        assert got[key] == expected[key], key
    with pytest.raises(DataError, match="a table of a Spark catalog or a database, and this command reads with DuckDB"):
        open_sources(config)


def test_pandas_written_parquet_with_nanosecond_timestamps(sample_config, fact_frame, tmp_path):
    """Parquet files written by pandas (timestamps as INT64 nanoseconds, which Spark 4 refuses as timestamps) give
    on Spark, and on DuckDB, the figures DuckDB gives on the committed sample, key by key."""
    import pyarrow.parquet as pq

    root = tmp_path / "pandas"
    (root / "fact_events").mkdir(parents=True)
    frame = fact_frame.assign(  # as pandas builds timestamps (pd.to_datetime): nanoseconds
        ingested_at=fact_frame["ingested_at"].astype("datetime64[ns]"),
        event_ts=fact_frame["event_ts"].dt.tz_convert("UTC").astype("datetime64[ns, UTC]"),
    )
    for day, rows in frame.groupby(frame["ingested_at"].dt.date):
        rows.to_parquet(root / "fact_events" / f"{day}.parquet", index=False)
    first = next((root / "fact_events").iterdir())
    assert spark.nanosecond_columns([str(first)]) == {"ingested_at", "event_ts"}
    assert pq.read_schema(first).field("ingested_at").type.unit == "ns"
    toml = sample_config.path.read_text().replace('"api_daily.csv"', f'"{sample_config.root}/api_daily.csv"')
    (root / "evtools.toml").write_text(toml.replace('"dashboard.parquet"', f'"{sample_config.root}/dashboard.parquet"'))
    pandas_config = load_config(root / "evtools.toml")
    expected = reconcile.reconcile(open_sources(sample_config), sample_config)
    for config, con in (
        (pandas_config, open_sources(pandas_config)),
        (on_spark(pandas_config), spark.connect(on_spark(pandas_config))),
    ):
        got = reconcile.reconcile(con, config)
        assert_same_frame(got.frame(), expected.frame())
        assert got.summary == expected.summary
