"""The sql engine on a real PostgreSQL server gives DuckDB's figures, key by key: quality, reconciliation, explain,
and refresh (full, then incremental in steps).

The data is the committed sample, and a generated 2M-row set, as a user's warehouse holds them (other column names,
text company ids, zoned timestamps, a 32-bit count), loaded with COPY into tables of a schema; DuckDB reads the same
rows from parquet files with the same mapping, and is the reference.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess

import duckdb
import pandas as pd
import pytest

from evtools.analyses import quality, reconcile, refresh
from evtools.app.cli import main
from evtools.core.config import load_config
from evtools.core.errors import ConcurrentRun
from evtools.engines import database
from evtools.engines.sources import open_sources
from tests.conftest import PG_PASSWORD_ENV, write_config
from tests.test_foreign_schema import MAPPING  # the same user's column names

pytestmark = pytest.mark.postgres

FOREIGN = {  # table -> the sample's rows as the user holds them
    "facts": "SELECT CAST(event_id AS VARCHAR) AS record_uid, 'acct-' || company_id AS account_id, date AS event_date, "
    "event_ts AS happened_at, CAST(events AS INTEGER) AS event_count, "
    "CAST(ingested_at AS TIMESTAMPTZ) AS loaded_at, load_id AS batch FROM read_parquet('{root}/fact_events/*.parquet')",
    "api": "SELECT 'acct-' || company_id AS account, date AS day, CAST(events AS INTEGER) AS n "
    "FROM read_csv('{root}/api_daily.csv')",
    "dash": "SELECT 'acct-' || company_id AS account, date AS day, events AS total, computed_at AS built "
    "FROM read_parquet('{root}/dashboard.parquet')",
}


def sql_config(folder, server, schema: str = "lake", extra: str = ""):
    """A config reading the tables of ``schema`` on ``server`` through the sql engine."""
    return load_config(
        write_config(
            folder,
            f'[sources]\nfact_events = "table:{schema}.facts"\napi_daily = "table:{schema}.api"\n'
            f'dashboard = "table:{schema}.dash"\n[engine]\nkind = "sql"\nurl = "{server.url}"\n'
            f'password_env = "{PG_PASSWORD_ENV}"\n{extra}' + MAPPING,
        )
    )


def foreign(tmp_path_factory, postgres, root, schema: str):
    """(DuckDB config over foreign parquet files, sql config over the same rows in the PostgreSQL schema ``schema``),
    from the evtools sample in ``root``."""
    files = tmp_path_factory.mktemp(f"files_{schema}")
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    for table, query in FOREIGN.items():
        query = query.format(root=root)
        duck.execute(f"COPY ({query}) TO '{files / table}.parquet' (FORMAT parquet)")
        postgres.load(schema, table, duck, query)
    local = load_config(
        write_config(
            files,
            '[sources]\nfact_events = "facts.parquet"\napi_daily = "api.parquet"\ndashboard = "dash.parquet"\n'
            + MAPPING,
        )
    )
    return local, sql_config(tmp_path_factory.mktemp(f"sql_{schema}"), postgres, schema)


@pytest.fixture(scope="module")
def configs(tmp_path_factory, sample_dir, postgres):
    """The committed sample, in the schema ``lake``."""
    return foreign(tmp_path_factory, postgres, sample_dir, "lake")


@pytest.fixture(scope="module")
def large_configs(tmp_path_factory, postgres, large_dir):
    """The generated 2M-row set (time-ordered event ids), in the schema ``lake2m``."""
    return foreign(tmp_path_factory, postgres, large_dir, "lake2m")


@pytest.fixture(scope="module", params=["sample", pytest.param("2M", marks=pytest.mark.slow)])
def both(request):
    """(DuckDB config, sql config) of each data set."""
    return request.getfixturevalue({"sample": "configs", "2M": "large_configs"}[request.param])


@pytest.fixture(scope="module")
def cons(both):
    local, remote = both
    con = database.connect(remote)
    yield open_sources(local), con
    con.close()


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert list(left.columns) == list(right.columns)
    pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False)


def test_quality_figures_are_duckdbs(both, cons):
    (local, remote), (duck, pg) = both, cons
    expected = quality.analyse(duck, local)
    got = quality.analyse(pg, remote)
    assert len(got.frame()) == len(expected.frame()) > 0
    assert_same_frame(got.frame(), expected.frame())
    assert got.summary == expected.summary
    assert expected.summary["duplicate_excess"] > 0 and expected.summary["correction_excess"] > 0
    assert expected.summary["replayed_loads"] > 0
    assert_same_frame(got.replayed_loads, expected.replayed_loads)
    assert_same_frame(got.arrival_lag, expected.arrival_lag)


def test_reconciliation_waterfalls_are_duckdbs(both, cons):
    (local, remote), (duck, pg) = both, cons
    expected = reconcile.reconcile(duck, local)
    got = reconcile.reconcile(pg, remote)
    assert_same_frame(got.frame(), expected.frame())
    assert got.summary == expected.summary
    assert expected.summary["mismatched"] > 0 and expected.summary["keys_by_cause"].get("timezone", 0) > 0


def test_explain_rows_are_duckdbs(both, cons):
    (local, remote), (duck, pg) = both, cons
    worst = reconcile.reconcile(duck, local).summary["worst_keys"][0]
    company, day = str(worst["company_id"]), worst["date"]
    expected = reconcile.explain(duck, local, company, day)
    got = reconcile.explain(pg, remote, company, day)
    assert got.waterfall == expected.waterfall
    assert_same_frame(got.rows, expected.rows)
    assert set(expected.rows["role"]) >= {"counted", "duplicate"}


def test_refresh_matches_duckdb_run_by_run(both, cons, tmp_path):
    """Full, then incremental in steps (one with nothing new), then (on the sample) a lookback rebuild and a
    backfill: each run's counts and the whole table equal DuckDB's, and the table equals a full recomputation."""
    (local, remote), (duck, pg) = both, cons
    schema = "agg_" + remote.source("fact_events").catalog.split(".")[0]
    first, newest = duck.execute("SELECT min(ingested_at), max(ingested_at) FROM fact_events").fetchall()[0]
    span = newest - first
    untils = [first + span * f for f in (0.5, 0.6, 0.61)] + [first + span * 0.61, None]
    runs = [{"until": u} for u in untils]
    if schema == "agg_lake":  # the other strategies' SQL on the sample only: the 2M set adds time, not cases
        runs += [{"full": True, "strategy": "lookback"}]
        runs.append({"strategy": "lookback", "backfill": (dt.date(2026, 1, 3), dt.date(2026, 1, 9))})
    modes = []
    for kw in runs:
        got = refresh.refresh(remote, schema, con=pg, **kw)  # the session the analyses above ran on
        expected = refresh.refresh(local, tmp_path / "agg.duckdb", **kw)
        fields = ("mode", "rows_read", "keys_changed", "dates_recomputed", "watermark_after", "missed_by_lookback_rows")
        assert [getattr(got, f) for f in fields] == [getattr(expected, f) for f in fields]
        assert_same_frame(
            refresh.table(remote, schema, pg).drop(columns="refreshed_at"),
            refresh.table(local, tmp_path / "agg.duckdb").drop(columns="refreshed_at"),
        )
        modes.append(got.mode)
    assert modes == ["full", "incremental", "incremental", "noop", "incremental", "full", "backfill"][: len(runs)]
    assert refresh.verify(remote, schema, pg).empty
    assert refresh.table(remote, schema, pg)["company_id"].str.startswith("acct-").all()
    history = refresh.runs(remote, schema, pg)
    assert history["status"].tolist() == ["ok"] * len(runs) and history["mode"].tolist() == modes


def test_refresh_run_is_one_transaction(configs, monkeypatch):
    """A run failing after its writes leaves the table and the watermark as they were, and is logged as failed."""
    local, remote = configs
    pg = database.connect(remote)
    until = pd.Timestamp("2026-02-01").to_pydatetime()
    refresh.refresh(remote, "agg_tx", until=until, con=pg)
    before = refresh.table(remote, "agg_tx", pg)
    monkeypatch.setenv(refresh.FAULT_ENV, "raise:after_apply")
    with pytest.raises(RuntimeError, match="injected fault"):
        refresh.refresh(remote, "agg_tx", con=pg)
    monkeypatch.delenv(refresh.FAULT_ENV)
    assert_same_frame(refresh.table(remote, "agg_tx", pg), before)
    history = refresh.runs(remote, "agg_tx", pg)
    assert history["status"].tolist() == ["ok", "failed"]
    assert history["watermark_after"].iloc[-1] == until
    again = refresh.refresh(remote, "agg_tx", con=pg)
    assert again.mode == "incremental" and again.watermark_before == until
    assert refresh.verify(remote, "agg_tx", pg).empty
    pg.close()


def test_second_refresh_waits_for_the_lock_or_stops(configs, postgres):
    """While one session holds the schema's refresh lock, another refresh stops with ConcurrentRun (exit 2 in the
    CLI), or waits with --wait and runs once the lock is free; the lock is per schema."""
    import threading

    _, remote = configs
    holder = database.connect(remote, names=("fact_events",))
    with holder.aggregate(remote, "agg_lock"):
        with pytest.raises(ConcurrentRun, match="agg_lock: another refresh is running"):
            refresh.refresh(remote, "agg_lock")
        assert refresh.refresh(remote, "agg_other").mode == "full"
        threading.Timer(1.0, lambda: holder.close()).start()  # the session ends: the lock is released
        assert refresh.refresh(remote, "agg_lock", wait=30).mode == "full"


def test_cli_runs_on_the_database_and_never_shows_the_password(configs, postgres, tmp_path, capsys, monkeypatch):
    """The password planted in the URL itself (the worst case) and in the environment: every command works or fails
    with one line, and the password is in nothing printed, logged or written."""
    from tests.pgserver import PASSWORD

    _, remote = configs
    inline = remote.path.read_text().replace("postgresql://evtools@", f"postgresql://evtools:{PASSWORD}@")
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "evtools.toml").write_text(inline.replace(f'password_env = "{PG_PASSWORD_ENV}"\n', ""))
    missing = folder / "missing.toml"
    missing.write_text(inline.replace("table:lake.facts", "table:lake.no_such_table"))
    wrong = folder / "wrong.toml"
    wrong.write_text(remote.path.read_text())
    monkeypatch.chdir(tmp_path)
    config = str(folder / "evtools.toml")
    codes = [
        main(["-v", "--debug", "quality", "--config", config, "--out", str(tmp_path / "q")]),
        main(["-v", "reconcile", "--config", config, "--out", str(tmp_path / "r")]),
        main(["-v", "explain", "acct-1001", "2026-01-05", "--config", config, "--out", str(tmp_path / "e")]),
        main(["-v", "quality", "--config", str(missing)]),
        main(["refresh", "--config", config, "--db", "agg_cli"]),
        main(["refresh", "--verify", "--config", config, "--db", "agg_cli"]),
    ]
    monkeypatch.setenv(PG_PASSWORD_ENV, "wrong-" + PASSWORD)
    codes.append(main(["-v", "quality", "--config", str(wrong)]))
    printed = capsys.readouterr()
    assert codes == [0, 0, 0, 2, 0, 0, 3], codes
    assert "table 'lake.no_such_table' not found in postgresql://evtools:***@127.0.0.1" in printed.err
    assert "password authentication failed" in printed.err
    for secret in (PASSWORD, "wrong-" + PASSWORD):
        assert secret not in printed.out and secret not in printed.err
        leaked = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".toml" and secret.encode() in p.read_bytes()]
        assert leaked == [], secret
    summary = json.loads((tmp_path / "q" / "summary.json").read_text())
    assert summary["duplicate_excess"] > 0


def psql(server, *files, cwd=None) -> subprocess.CompletedProcess:
    """The files run by the real psql in one session as the evtools role, stopping at the first error."""
    env = {**os.environ, "PGPASSWORD": os.environ[PG_PASSWORD_ENV]}
    host, port = "127.0.0.1", str(server.port)
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", "evtools", "-d", "evtools"]
    for f in files:
        argv += ["-f", str(f)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def exported(path) -> pd.DataFrame:
    return duckdb.read_csv(str(path)).df()


@pytest.mark.parametrize("analysis", ["quality", "reconcile", "refresh"])
def test_printed_postgres_script_runs_in_psql_and_gives_duckdbs_figures(configs, postgres, tmp_path, capsys, analysis):
    local, remote = configs
    assert main(["sql", "--dialect", "postgres", "--script", analysis, "--config", str(remote.path)]) == 0
    script = tmp_path / f"{analysis}.sql"
    script.write_text(capsys.readouterr().out)
    code = re.sub(r"/\*.*?\*/|--[^\n]*", "", script.read_text(), flags=re.S)  # the SQL without its comments
    assert "%(" not in code and "$" not in code and "CREATE OR REPLACE TEMPORARY TABLE" not in code
    table = {"quality": "_quality", "reconcile": "_reconcile_final", "refresh": "agg.agg_company_daily_events"}
    export = tmp_path / "export.sql"
    export.write_text(
        f"\\copy (SELECT * FROM {table[analysis]} ORDER BY company_id, date) TO '{tmp_path / 'out.csv'}' CSV HEADER\n"
    )
    done = psql(postgres, script, export)  # the script as printed, then one line exporting its result
    assert done.returncode == 0, done.stderr[-2000:]
    got = exported(tmp_path / "out.csv")
    duck = open_sources(local)
    if analysis == "quality":
        expected = quality.analyse(duck, local).frame()
        assert "keys_with_duplicates" in done.stdout  # the final selects print their results
    elif analysis == "reconcile":
        expected = reconcile.reconcile(duck, local).frame()
        assert "abs_residual" in done.stdout
    else:
        refresh.refresh(local, tmp_path / "agg.duckdb")
        expected = refresh.table(local, tmp_path / "agg.duckdb")
    keep = [c for c in expected.columns if c not in ("refreshed_at", "computed_at")]
    for c in ("date",):
        got[c] = pd.to_datetime(got[c])
        expected[c] = pd.to_datetime(expected[c])
    assert len(got) == len(expected) > 0
    assert_same_frame(got[keep], expected[keep])



def test_layout_ddl_runs_in_postgres_with_the_data_and_a_default_partition(configs, postgres, tmp_path):
    """The layout's PostgreSQL DDL, run by psql over the user's table: every row copied, the months of the span in
    their partitions, the dates after it in DEFAULT, and a one-date query reading one partition."""
    import psycopg

    from evtools.analyses import ddl

    _, remote = configs
    spec = ddl.LayoutSpec.from_config(remote, "lake.facts", "2026-01-01", "2026-01-31")
    script = tmp_path / "ddl.sql"
    script.write_text(ddl.ddl(spec)["postgres"])
    done = psql(postgres, script)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(postgres.admin()) as c:
        def one(sql):
            return c.execute(sql).fetchone()[0]

        assert one("SELECT count(*) FROM lake.facts_by_date") == one("SELECT count(*) FROM lake.facts") > 0
        later = one("SELECT count(*) FROM lake.facts WHERE event_date >= DATE '2026-02-01'")
        assert one("SELECT count(*) FROM lake.facts_by_date_default") == later > 0
        assert one("SELECT count(*) FROM lake.facts_by_date_2026_01 WHERE event_date >= DATE '2026-02-01'") == 0
        plan = "\n".join(r[0] for r in c.execute(
            "EXPLAIN SELECT sum(event_count) FROM lake.facts_by_date WHERE event_date = DATE '2026-01-12'"
        ).fetchall())
    assert "facts_by_date_2026_01" in plan and "facts_by_date_default" not in plan
