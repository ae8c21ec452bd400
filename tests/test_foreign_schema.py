"""The whole pipeline on the committed sample re-shaped as a user's warehouse would hold it: other column names, text
company ids ('acct-1001'), an API csv and a dashboard with their own names. Every figure must equal the canonical run."""

from __future__ import annotations

import duckdb
import pytest

from evtools.analyses import quality, reconcile, refresh
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from tests.conftest import write_config

MAPPING = """[columns.fact_events]
event_id = "record_uid"
company_id = "account_id"
date = "event_date"
events = "event_count"
ingested_at = "loaded_at"
event_ts = "happened_at"
load_id = "batch"
[columns.api_daily]
company_id = "account"
date = "day"
events = "n"
[columns.dashboard]
company_id = "account"
date = "day"
events = "total"
computed_at = "built"
[settings]
timezones = ["America/New_York", "Asia/Tokyo"]
"""


@pytest.fixture(scope="module")
def foreign(tmp_path_factory, sample_dir):
    tmp = tmp_path_factory.mktemp("foreign")
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT event_id::VARCHAR AS record_uid, 'acct-' || company_id AS account_id, date AS event_date, "
        "event_ts AS happened_at, events::INTEGER AS event_count, ingested_at AS loaded_at, load_id AS batch "
        "FROM read_parquet($src)) TO $dst (FORMAT parquet)",
        {"src": str(sample_dir / "fact_events" / "*.parquet"), "dst": str(tmp / "facts.parquet")},
    )
    con.execute(
        "COPY (SELECT 'acct-' || company_id AS account, date AS day, events AS n FROM read_csv($src)) TO $dst (HEADER)",
        {"src": str(sample_dir / "api_daily.csv"), "dst": str(tmp / "api.csv")},
    )
    con.execute(
        "COPY (SELECT 'acct-' || company_id AS account, date AS day, events AS total, computed_at AS built "
        "FROM read_parquet($src)) TO $dst (FORMAT parquet)",
        {"src": str(sample_dir / "dashboard.parquet"), "dst": str(tmp / "dash.parquet")},
    )
    path = write_config(
        tmp,
        '[sources]\nfact_events = "facts.parquet"\napi_daily = "api.csv"\ndashboard = "dash.parquet"\n'
        + MAPPING,
    )
    return load_config(path)


def test_quality_is_the_same(foreign, sample_config):
    a = quality.analyse(open_sources(foreign), foreign).summary
    b = quality.analyse(open_sources(sample_config), sample_config).summary
    for key in (
        "total_events",
        "duplicate_excess",
        "correction_excess",
        "late_events",
        "replayed_loads",
        "recommended_lookback_days",
        "configured_lookback_missed_events",
    ):
        assert a[key] == b[key], key
    assert a["worst_keys"][0]["company_id"] == f"acct-{b['worst_keys'][0]['company_id']}"


def test_reconciliation_is_the_same(foreign, sample_config):
    a = reconcile.reconcile(open_sources(foreign), foreign).frame()
    b = reconcile.reconcile(open_sources(sample_config), sample_config).frame()
    b["company_id"] = "acct-" + b["company_id"].astype(str)
    cols = ["company_id", "date", *reconcile.COMPONENTS, "cause", "status"]
    a, b = a[cols].sort_values(["company_id", "date"]), b[cols].sort_values(["company_id", "date"])
    assert a.reset_index(drop=True).equals(b.reset_index(drop=True))


def test_refresh_is_exact(foreign, tmp_path):
    db = tmp_path / "agg.duckdb"
    refresh.refresh(foreign, db, until=refresh.dt.datetime(2026, 2, 1))
    refresh.refresh(foreign, db)
    assert refresh.verify(foreign, db).empty
    assert refresh.table(foreign, db)["company_id"].str.startswith("acct-").all()
