"""Every query of ``evtools sql`` executes on DuckDB, Spark and PostgreSQL and gives the same result.

One plan runs every query in an order that makes what each reads (the pipelines' order, plus the standalone
queries with their parameters) on the committed sample; DuckDB's results are the reference and every other
engine's result must equal them row for row (as multisets where a query leaves the order open). Parsing a
transpiled query back is not running it: this test is what makes a dialect "executed" (``dialects.EXECUTED``).

Spark runs every query that reads and writes temporary tables only. The refresh's table writes (DELETE, INSERT,
CREATE TABLE in the aggregate's schema) are not Spark's way: its refresh writes date partitions through the
``lake_*`` queries and runs the rest of the refresh's reads through ``evtools.engines.lake``, which
tests/test_spark.py runs against DuckDB's refresh run by run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import duckdb
import pyarrow as pa
import pytest

from evtools.analyses import reconcile
from evtools.core.config import load_config
from evtools.engines import dialects, pipeline
from evtools.engines.queries import arrow, drop, execute, register
from evtools.engines.sources import open_sources
from tests.conftest import PG_PASSWORD_ENV, write_config

NOW = dt.datetime(2026, 3, 2, 12)
UNTIL, NEXT = dt.datetime(2026, 2, 1), dt.datetime(2026, 2, 3)
SCOPE = {"company": "1001", "date_from": dt.date(2026, 1, 10), "date_to": dt.date(2026, 1, 20)}
P = {  # the parameters of the plan's steps
    "offset_hours": 2.5,
    "scope": "everything",
    "min_share": 0.5,
    "n": 10,
    "max_net_share": reconcile.TZ_MAX_NET_SHARE,
    "abs_tol": 0.0,
    "rel_tol": 0.0,
    "company": "1001",
    "date": dt.date(2026, 1, 12),
    "date_from": None,
    "date_to": None,
    "day": dt.date(2026, 1, 12),
    "since": dt.date(2026, 1, 30),
    "after": dt.datetime(2026, 1, 1),
    "lookback": 2,
    "as_of": NOW,
    "window_since": dt.date(2026, 2, 20),
    "month_since": dt.date(2026, 2, 1),
    "until": UNTIL,
    "watermark": UNTIL,
    "now": NOW,
    "first": dt.date(2026, 1, 5),
    "last": dt.date(2026, 1, 8),
    "strategy": "touched",
}
LOG_RUN = {"id": 1, "start": NOW, "end": NOW, "strategy": "touched", "mode": "full", "wb": None, "wa": UNTIL,
           "until": UNTIL, "rows": 1, "keys": 2, "dates": 3, "mr": 0, "me": 0, "status": "ok", "error": None}

ANALYSES = (
    pipeline.prepare(False, True)
    + ["prepared_mark", "prepared_scope"]
    + pipeline.QUALITY
    + pipeline.QUALITY_RESULTS
    + ["distinct_flaw_example"]
    + pipeline.RECONCILE
    + pipeline.timezones(True)
    + pipeline.CLASSIFY
    + pipeline.RECONCILE_RESULTS
    + ["explain_rows"]
    + pipeline.timezones(False)
    + pipeline.CLASSIFY
)
SCOPED = pipeline.prepare(True, False) + pipeline.QUALITY + ["quality_table", "scope_keys"]
STANDALONE = [
    "busiest_company", "company_day", "company_range", "daily_ingestion", "date_range", "dates", "fact_rows",
    "gx_fact_duplicates", "gx_fact_freshness", "gx_fact_lateness", "gx_fact_rows", "job_aggregate",
    "job_aggregate_window", "last_date", "latest_complete_date", "newest_ingested", "query_rows", "rows_on_date",
    "gx_keys", "gx_rows", "gx_fact_rows_all", "gx_payloads_all", "gx_fact_duplicates_all", "gx_fact_lateness_all",
    "gx_fact_freshness_all", "gx_keys_all", "gx_rows_all", "newest_ingested_by", "future_rows",
]
REFRESH = (
    pipeline.REFRESH_FULL
    + ["refresh_counts_full", "refresh_set_state", "refresh_read_state", "refresh_log_run", "refresh_next_run"]
    + ["refresh_new", "refresh_missed", "refresh_range_bounds", "refresh_ranges", "lake_lookup"]
    + pipeline.REFRESH_TOUCHED[1:-1]
    + ["lake_touched_dates", "lake_agg_touched", "lake_counts_full", "refresh_counts"]
    + pipeline.REFRESH_TOUCHED[-1:]
    + pipeline.REFRESH_LOOKBACK[:-1]
    + ["refresh_counts_lookback"]
    + pipeline.REFRESH_LOOKBACK[-1:]
    + pipeline.REFRESH_BACKFILL
    + ["refresh_counts_backfill"]
    + pipeline.GX_AGG_TOTALS
    + pipeline.GX_AGG_TOTALS_ALL
    + ["refresh_verify", "refresh_table", "refresh_runs"]
)
RANGES = {f"{b}{i}": None for i in range(2, 9) for b in ("lo", "hi")} | {"lo1": 0, "hi1": 10**15}


def plan(spark: bool) -> list[tuple[str, dict]]:
    """(query, parameters) in order; Spark stops before the refresh's table writes."""
    steps = [(s, P) for s in ANALYSES] + [(s, {**P, **SCOPE}) for s in SCOPED] + [(s, P) for s in STANDALONE]
    if not spark:
        for s in REFRESH:
            params = {**P, "until": NEXT} if s in pipeline.REFRESH_TOUCHED + pipeline.REFRESH_LOOKBACK else P
            steps.append((s, {**params, **LOG_RUN} if s == "refresh_log_run" else {**params, **RANGES}))
    return steps


def test_the_plan_runs_every_query():
    ran = {s for s, _ in plan(False)}
    assert ran == set(dialects.names())
    client = {pipeline.ZONES, "_gx_source", "_gx_dates", "_agg_touched", "_full_agg", "live.agg_company_daily_events"}
    pipeline.check([s for s, _ in plan(False)], pipeline.SOURCES | client)


def _cell(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if hasattr(v, "nanoseconds"):  # DuckDB's INTERVAL in Arrow: months, days, nanoseconds
        assert v.months == 0
        return v.days * 86400 + v.nanoseconds / 1e9
    if hasattr(v, "to_integral_value"):
        return round(float(v), 9)
    return v


def rows(table: pa.Table, ordered: bool) -> list[tuple]:
    out = [tuple(_cell(v) for v in row) for row in zip(*(c.to_pylist() for c in table.columns), strict=True)]
    return out if ordered else sorted(out, key=repr)


def setup(engine: str, con, duck_state: pa.Table) -> None:
    """What the plan needs besides the queries: the small client tables, the aggregate's schemas."""
    register(con, pipeline.ZONES, reconcile.zone_table(["America/New_York", "Asia/Tokyo"]))
    register(con, "_gx_source", pa.table({"company_id": [1, 1, 2], "date": [dt.date(2026, 1, 12)] * 3}))
    register(con, "_gx_dates", pa.table({"date": [dt.date(2026, 1, d) for d in (5, 12, 31)]}))
    register(con, "_agg_touched", duck_state)
    register(con, "_full_agg", duck_state)
    if engine == "duckdb":
        con.execute("ATTACH ':memory:' AS agg")
        con.execute("ATTACH ':memory:' AS live")
        con.execute("ATTACH ':memory:' AS snap")
        con.execute("CREATE TABLE live.agg_company_daily_events (company_id BIGINT, date DATE, events BIGINT, rows BIGINT)")
    elif engine == "postgres":
        for statement in (
            "DROP SCHEMA IF EXISTS agg CASCADE", "DROP SCHEMA IF EXISTS live CASCADE", "CREATE SCHEMA agg",
            "CREATE SCHEMA live", "DROP SCHEMA IF EXISTS snap CASCADE", "CREATE SCHEMA snap",
            "CREATE TABLE live.agg_company_daily_events (company_id BIGINT, date DATE, events BIGINT, rows BIGINT)",
        ):
            con.connection.exec_driver_sql(statement)


def run_plan(engine: str, con) -> dict[str, list[tuple]]:
    results = {}
    for name, params in plan(engine == "spark"):
        for made in pipeline.step(name).makes - pipeline.step(name).reads:
            if "." not in made:
                drop(con, made)  # a view in one pipeline may be a table in the next (as quality.prepare drops)
        statements = dialects.statements(name, "duckdb")
        if isinstance(statements[-1], (dialects.exp.Select, dialects.exp.Union)):
            table = arrow(con, name, params)
            results[name] = rows(table, ordered=statements[-1].args.get("order") is not None)
        else:
            execute(con, name, params)
    return results


def state_sample(config) -> pa.Table:
    """Some rows shaped as the aggregate (the lake queries read a part of it, as Spark's refresh reads partitions)."""
    con = open_sources(config, names=("fact_events",))
    return con.sql(
        "SELECT company_id, date, CAST(sum(events) AS BIGINT) AS events, count(*) AS rows, "
        "max(ingested_at) AS refreshed_at FROM fact_events WHERE date = DATE '2026-01-12' GROUP BY company_id, date"
    ).to_arrow_table()


@pytest.fixture(scope="module")
def reference(sample_config):
    con = open_sources(sample_config)
    setup("duckdb", con, state_sample(sample_config))
    return run_plan("duckdb", con)


@pytest.mark.postgres
def test_every_query_on_postgres_equals_duckdb(sample_config, reference, postgres, tmp_path):
    duck = duckdb.connect()
    for name, location in (("fact_events", "fact_events/*.parquet"), ("api_daily", "api_daily.csv"), ("dashboard", "dashboard.parquet")):
        postgres.load("canon", name, duck, f"SELECT * FROM '{sample_config.root / location}'")
    config = load_config(write_config(
        tmp_path,
        '[sources]\nfact_events = "table:canon.fact_events"\napi_daily = "table:canon.api_daily"\n'
        f'dashboard = "table:canon.dashboard"\n[engine]\nkind = "sql"\nurl = "{postgres.url}"\n'
        f'password_env = "{PG_PASSWORD_ENV}"\n[settings]\ntimezones = ["America/New_York", "Asia/Tokyo"]\n',
    ))
    from evtools.engines import database

    con = database.connect(config)
    setup("postgres", con, state_sample(sample_config))
    got = run_plan("postgres", con)
    assert got.keys() == reference.keys()
    for name in reference:
        assert got[name] == reference[name], name


@pytest.mark.spark
def test_every_query_on_spark_equals_duckdb(sample_config, reference):
    from evtools.engines import spark

    config = dataclasses.replace(sample_config, engine=dataclasses.replace(sample_config.engine, kind="spark"))
    con = spark.connect(config)
    setup("spark", con, state_sample(sample_config))
    got = run_plan("spark", con)
    assert got.keys() == {s for s, _ in plan(True)} & reference.keys()
    for name in got:
        assert got[name] == reference[name], name
