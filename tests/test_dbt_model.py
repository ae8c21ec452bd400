"""The layout's dbt model, run for real with dbt-duckdb (in this process, as ``dbt run`` runs it): a full run, then incremental ones, each equal to
``evtools refresh`` as of the same rows, key by key.

The fact table is the committed sample held under the user's column names (tests.test_foreign_schema's mapping:
text company ids, renamed columns), fed to dbt in three slices of ingestion time; the later slices carry late rows
for old dates and corrections that move events between dates, which a fixed-window model misses.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from evtools.analyses import ddl, refresh
from evtools.core.config import load_config
from tests.conftest import dbt, write_config
from tests.test_foreign_schema import MAPPING

pytestmark = pytest.mark.slow

FACTS = (
    "SELECT CAST(event_id AS VARCHAR) AS record_uid, 'acct-' || company_id AS account_id, date AS event_date, "
    "event_ts AS happened_at, CAST(events AS INTEGER) AS event_count, ingested_at AS loaded_at, load_id AS batch "
    "FROM read_parquet('{root}/fact_events/*.parquet')"
)


def test_dbt_model_full_then_incremental_equals_refresh(sample_dir, tmp_path):
    facts = tmp_path / "facts.parquet"
    duckdb.execute(f"COPY ({FACTS.format(root=sample_dir)}) TO '{facts}' (FORMAT parquet)")
    config = load_config(write_config(tmp_path, '[sources]\nfact_events = "facts.parquet"\n' + MAPPING))
    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    model = ddl.ddl(ddl.LayoutSpec.from_config(config, "raw.fact_events"))["dbt"]
    (project / "models" / "agg_company_daily_events.sql").write_text(model)
    (project / "models" / "sources.yml").write_text(
        "version: 2\nsources:\n  - name: evtools\n    schema: raw\n    tables:\n      - name: fact_events\n"
    )
    (project / "dbt_project.yml").write_text("name: t\nversion: '1.0'\nprofile: t\nmodel-paths: ['models']\n")
    warehouse = project / "warehouse.duckdb"
    (project / "profiles.yml").write_text(
        f"t:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {warehouse}\n      threads: 1\n"
    )
    first, last = duckdb.execute(f"SELECT min(loaded_at), max(loaded_at) FROM '{facts}'").fetchall()[0]
    untils = [first + (last - first) * f for f in (0.5, 0.75)] + [last]
    late_keys = 0
    previous = None
    for i, until in enumerate(untils):
        with duckdb.connect(str(warehouse)) as con:  # the source table as the warehouse holds it at `until`
            con.execute("CREATE SCHEMA IF NOT EXISTS raw")
            con.execute(f"CREATE OR REPLACE TABLE raw.fact_events AS SELECT * FROM '{facts}' WHERE loaded_at <= $u", {"u": until})
        done, out = dbt(project, "run", *(["--full-refresh"] if i == 0 else []))
        assert done.success, out[-3000:]
        assert "OK created sql incremental model" in out
        with duckdb.connect(str(warehouse)) as con:  # dbt-duckdb keeps it open here: the same configuration
            got = con.execute(
                "SELECT company_id, date, events, rows FROM main.agg_company_daily_events ORDER BY company_id, date"
            ).df()
        ran = refresh.refresh(config, tmp_path / "agg.duckdb", until=until)
        assert ran.mode == ("full" if i == 0 else "incremental")
        expected = refresh.table(config, tmp_path / "agg.duckdb")[["company_id", "date", "events", "rows"]]
        assert len(got) == len(expected) > 0
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        if previous is not None:  # keys changed on dates older than the 2-day window before `until`
            joined = expected.merge(previous, on=["company_id", "date"], how="outer", suffixes=("", "_before"))
            changed = joined[joined["events"].ne(joined["events_before"])]
            late_keys += int((pd.to_datetime(changed["date"]) < pd.Timestamp(until.date() - dt.timedelta(days=2))).sum())
        previous = expected
    assert late_keys > 0
