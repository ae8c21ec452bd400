"""evtools sql: every query of the package, written for each warehouse dialect, parses there."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from evtools.app.cli import main
from evtools.core.config import load_config
from evtools.core.errors import ConfigError
from evtools.engines import dialects
from tests.conftest import write_config


@pytest.mark.parametrize("dialect", dialects.DIALECTS)
def test_every_query_transpiles_and_parses(dialect):
    names = dialects.names()
    assert (
        len(names) > 60
        and "quality_keys" in names
        and not any(n.startswith(("sample_", "runs_")) for n in names)
    )
    for name in names:
        text = dialects.transpile(name, dialect)
        parsed = [s for s in sqlglot.parse(text, read=dialect, error_level=ErrorLevel.RAISE) if s is not None]
        assert parsed, name
        # sqlglot falls back to an opaque Command for text it cannot parse; none may be one
        assert not any(isinstance(s, sqlglot.exp.Command) for s in parsed), name


def test_macros_are_expanded_and_spark_rewrites_zone_conversion():
    lateness = dialects.transpile("gx_fact_lateness", "postgres", pretty=False)
    assert "arrival_lag" not in lateness.lower()
    assert "((CAST(ingested_at AS DATE) - CAST(date AS DATE))) > %(lookback)s" in lateness
    assert "DATEDIFF(DAY, date, CAST(ingested_at AS DATE))" in dialects.transpile("key_lag", "spark", pretty=False)
    rebucket = dialects.transpile("timezone_rebucket", "spark", pretty=False)
    assert "FROM_UTC_TIMESTAMP(l.event_ts, z.zone)" in rebucket
    times = dialects.transpile("dashboard_times", "postgres", pretty=False)
    assert "DROP TABLE IF EXISTS _offset CASCADE;" in times  # PostgreSQL has no CREATE OR REPLACE TABLE
    assert "CREATE TEMPORARY TABLE _offset AS SELECT CAST(%(offset_hours)s AS DOUBLE PRECISION) * INTERVAL '1 HOUR'" in times


def test_parameters_are_written_as_each_dialect_binds_them():
    assert ":company" in dialects.transpile("reconcile", "spark")
    assert "@company" in dialects.transpile("reconcile", "bigquery")
    assert "$company" in dialects.transpile("reconcile", "duckdb")


def test_cli_sql(capsys):
    assert main(["sql"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == dialects.names()
    purpose = {
        line.split()[0]: line.split(maxsplit=1)[1] for line in lines
    }  # every query says what it is for
    assert purpose["dates"] == "Every date of fact_events, in order."
    assert purpose["busiest_company"].startswith("The company with the most rows")
    assert all(len(p) > 10 for p in purpose.values())
    assert main(["sql", "--dialect", "snowflake", "quality_versions"]) == 0
    out = capsys.readouterr().out
    assert "ROW_NUMBER() OVER (PARTITION BY as_of, event_id ORDER BY version DESC NULLS LAST" in " ".join(
        dialects.transpile("versions", "snowflake", pretty=False).split()
    )
    assert "COUNT(CASE WHEN NOT is_latest THEN 1 END) AS superseded_versions" in out
    assert main(["sql", "--dialect", "snowflake", "no_such_query"]) == 2
    assert "no query named 'no_such_query'" in capsys.readouterr().err


def test_engine_table(tmp_path):
    base = '[sources]\nfact_events = "f.parquet"\n'
    config = load_config(
        write_config(
            tmp_path, base + '[engine]\nkind = "spark"\nmaster = "yarn"\n[engine.conf]\n"spark.x" = 2\n'
        )
    )
    assert (config.engine.kind, config.engine.master, dict(config.engine.conf)) == (
        "spark",
        "yarn",
        {"spark.x": "2"},
    )
    assert config.with_engine("duckdb").engine.kind == "duckdb"
    assert config.aggregate_path == str(tmp_path / ".evtools" / "aggregate")
    for text, message in (
        ('[engine]\nkind = "flink"\n', "engine.kind: expected one of duckdb, spark, sql, found 'flink'"),
        ("[engine]\nmaster = 3\n", "engine.master: expected a string, found int"),
        ("[engine]\nnodes = 3\n", "unknown key 'engine.nodes'"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config(write_config(tmp_path, base + text))
    catalog = '[sources]\nfact_events = "table:lake.fact_events"\n'
    with pytest.raises(ConfigError, match="is a table of a Spark catalog or a database"):
        load_config(write_config(tmp_path, catalog))
    spark_config = load_config(write_config(tmp_path, catalog + '[engine]\nkind = "spark"\n'))
    assert spark_config.source("fact_events").catalog == "lake.fact_events"
    with pytest.raises(ConfigError, match="is a table of a Spark catalog or a database"):
        spark_config.with_engine("duckdb")
