"""Profiling and layouts on the committed sample: real figures, not just that they ran."""

from __future__ import annotations

import re

import pytest
import sqlglot

from evtools.analyses import ddl, layout, profiling
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from tests.conftest import write_config


@pytest.fixture(scope="module")
def measured(tmp_path_factory, sample_dir):
    config = load_config(sample_dir / "evtools.toml")
    con = open_sources(config, names=("fact_events",))
    files = layout.write_layouts(con, tmp_path_factory.mktemp("lay"))
    return config, files, layout.measure(config, files, window_days=2, repeats=1)


def test_partitioned_layout_reads_less_for_the_window(measured):
    _, _, result = measured
    m = result.measurements.set_index(["layout", "query"])
    before, after = m.loc[("before", "window")], m.loc[("by_date", "window")]
    assert after["bytes_read"] < before["bytes_read"] / 5
    assert after["row_groups_scanned"] <= before["row_groups_scanned"]
    assert (
        after["files_read"] == 2 and before["files_read"] == 61
    )  # 2 date partitions vs every ingestion file
    assert after["rows_scanned"] == after["rows_needed"]  # reads exactly the window's rows
    # the full job reads every row in every layout
    assert (m.xs("full", level="query")["rows_scanned"] == m.loc[("before", "full"), "rows_needed"]).all()
    s = result.summary
    assert s["window_share_after"] == pytest.approx(s["window_bytes_after"] / s["full_bytes_before"])


def test_profile_finds_the_full_scan_only_where_it_is(measured, sample_dir):
    config, files, _ = measured
    con = open_sources(config, names=("fact_events",))
    full = profiling.profile(con, *profiling.job_query(con))
    assert full.has("full_scan")
    assert full.totals["rows_scanned"] == con.execute("SELECT count(*) FROM fact_events").fetchall()[0][0]
    assert full.totals["row_groups_scanned"] == full.totals["row_groups_total"] == 61
    part = layout._layout_connection(config, files["by_date"], True)
    window = profiling.profile(part, *profiling.job_query(part, 2))
    assert not window.has("full_scan")
    assert window.totals["files_read"] == 2
    scan = window.operators[window.operators["is_scan"]].iloc[0]
    assert scan["rows_out"] == window.totals["rows_scanned"]


def test_operator_table_is_tidy(sample_con):
    p = profiling.profile(sample_con, *profiling.job_query(sample_con))
    ops = p.operators
    assert ops["share_of_time"].sum() == pytest.approx(1.0)
    assert ops.iloc[0]["type"] in profiling.AGGREGATES and ops.iloc[0]["rows_out"] == 1800
    assert ops.iloc[0]["rows_in"] == p.totals["rows_scanned"]
    assert ops["depth"].tolist() == sorted(ops["depth"].tolist())


def test_filter_that_does_not_prune_is_flagged(sample_con):
    # the ingestion-ordered files hold every company, so a company filter prunes nothing
    p = profiling.profile(
        sample_con,
        "SELECT sum(events) FROM fact_events WHERE company_id = 1001 AND date >= DATE '2026-01-01'",
    )
    assert p.has("no_pruning")


@pytest.mark.parametrize(
    ("sql", "warns"),
    [
        ("SELECT * FROM fact_events WHERE date >= DATE '2026-01-01'", False),
        ("SELECT * FROM fact_events WHERE CAST(date AS VARCHAR) >= '2026-01-01'", True),
        ("SELECT * FROM fact_events WHERE strftime(date, '%Y-%m') = '2026-01'", True),
        ("SELECT * FROM fact_events WHERE date_trunc('month', date) = DATE '2026-01-01'", True),
    ],
)
def test_pruning_warnings(sql, warns):
    assert bool(profiling.pruning_warnings(sql)) is warns


def test_ddl_parses_and_names_the_users_keys(tmp_path):
    path = write_config(
        tmp_path,
        '[sources]\nfact_events = "x.parquet"\n[columns.fact_events]\ndate = "event_date"\ncompany_id = "account_id"\n',
    )
    spec = ddl.LayoutSpec.from_config(load_config(path), "analytics.fact_events", "2025-01-01", "2025-03-31")
    statements = ddl.ddl(spec)
    for name, dialect in ddl.DIALECTS.items():
        parsed = sqlglot.parse(statements[name], read=dialect)
        assert parsed and all(p is not None for p in parsed), name
        assert "event_date" in statements[name] and "account_id" in statements[name], name
    assert re.search(r"PARTITION BY event_date\s+CLUSTER BY account_id", statements["bigquery"])
    assert "CLUSTER BY (event_date, account_id)" in statements["snowflake"]
    assert (
        "PARTITION (event_date RANGE RIGHT FOR VALUES ('2025-02-01', '2025-03-01'))" in statements["synapse"]
    )
    assert "HASH(account_id)" in statements["synapse"]
    assert statements["postgres"].count("PARTITION OF") == 4 and "PARTITION OF analytics.fact_events_by_date DEFAULT" in statements["postgres"]
    assert "INSERT INTO analytics.fact_events_by_date SELECT * FROM analytics.fact_events" in statements["postgres"]
    assert '.partitionBy("event_date")' in statements["spark_dataframe"]
    assert '.sortWithinPartitions("account_id")' in statements["spark_dataframe"]
    assert "materialized='incremental'" in statements["dbt"] and '"account_id" AS "company_id"' in statements["dbt"]
    assert "ROW_NUMBER() OVER" in statements["dbt"]  # the rule, from sql/versions.sql


def test_profile_and_layout_cli(sample_dir, tmp_path, capsys):
    from evtools.app.cli import main

    config = str(sample_dir / "evtools.toml")
    assert main(["profile", "--config", config, "--out", str(tmp_path / "p")]) == 0
    assert "Full scan: PARQUET_SCAN has no filter on date" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "operators.parquet",
        "plan.png",
        "profile.json",
    ]
    bad = tmp_path / "q.sql"
    bad.write_text("SELECT sum(events) FROM fact_events WHERE CAST(date AS VARCHAR) > '2026-02-01'")
    assert main(["profile", "--config", config, "--sql", str(bad)]) == 0
    assert "warning: the filter wraps date" in capsys.readouterr().out
    assert main(["layout", "--config", config, "--out", str(tmp_path / "l"), "--repeats", "1"]) == 0
    assert "the window of the last 2 dates reads" in capsys.readouterr().out
    assert (tmp_path / "l" / "ddl.sql").read_text().count("-- ") >= 8
