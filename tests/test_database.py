"""The sql engine on a real PostgreSQL server gives DuckDB's figures, key by key: quality, reconciliation, explain.

The data is the committed sample as a user's warehouse holds it (other column names, text company ids, zoned
timestamps, a 32-bit count), loaded with COPY into tables of the schema ``lake``; DuckDB reads the same rows from
parquet files with the same mapping, and is the reference.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import duckdb
import pandas as pd
import pytest

from evtools import database, quality, reconcile, refresh
from evtools.cli import main
from evtools.config import load_config
from evtools.sources import open_sources
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


@pytest.fixture(scope="module")
def configs(tmp_path_factory, sample_dir, postgres):
    """(DuckDB config over foreign parquet files, sql config over the same rows in PostgreSQL)."""
    files = tmp_path_factory.mktemp("files")
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    for table, query in FOREIGN.items():
        query = query.format(root=sample_dir)
        duck.execute(f"COPY ({query}) TO '{files / table}.parquet' (FORMAT parquet)")
        postgres.load("lake", table, duck, query)
    local = load_config(
        write_config(
            files,
            '[sources]\nfact_events = "facts.parquet"\napi_daily = "api.parquet"\ndashboard = "dash.parquet"\n'
            + MAPPING,
        )
    )
    return local, sql_config(tmp_path_factory.mktemp("sql"), postgres)


@pytest.fixture(scope="module")
def cons(configs):
    local, remote = configs
    con = database.connect(remote)
    yield open_sources(local), con
    con.close()


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert list(left.columns) == list(right.columns)
    pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False)


def test_quality_figures_are_duckdbs(configs, cons):
    (local, remote), (duck, pg) = configs, cons
    expected = quality.analyse(duck, local)
    got = quality.analyse(pg, remote)
    assert len(got.frame()) == len(expected.frame()) > 0
    assert_same_frame(got.frame(), expected.frame())
    assert got.summary == expected.summary
    assert expected.summary["duplicate_excess"] > 0 and expected.summary["correction_excess"] > 0
    assert expected.summary["replayed_loads"] > 0
    assert_same_frame(got.replayed_loads, expected.replayed_loads)
    assert_same_frame(got.arrival_lag, expected.arrival_lag)


def test_reconciliation_waterfalls_are_duckdbs(configs, cons):
    (local, remote), (duck, pg) = configs, cons
    expected = reconcile.reconcile(duck, local)
    got = reconcile.reconcile(pg, remote)
    assert_same_frame(got.frame(), expected.frame())
    assert got.summary == expected.summary
    assert expected.summary["mismatched"] > 0 and expected.summary["keys_by_cause"].get("timezone", 0) > 0


def test_explain_rows_are_duckdbs(configs, cons):
    (local, remote), (duck, pg) = configs, cons
    worst = reconcile.reconcile(duck, local).summary["worst_keys"][0]
    company, day = str(worst["company_id"]), worst["date"]
    expected = reconcile.explain(duck, local, company, day)
    got = reconcile.explain(pg, remote, company, day)
    assert got.waterfall == expected.waterfall
    assert_same_frame(got.rows, expected.rows)
    assert set(expected.rows["role"]) >= {"counted", "duplicate"}


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
        main(["refresh", "--config", config]),
    ]
    monkeypatch.setenv(PG_PASSWORD_ENV, "wrong-" + PASSWORD)
    codes.append(main(["-v", "quality", "--config", str(wrong)]))
    printed = capsys.readouterr()
    assert codes == [0, 0, 0, 2, 2, 3], codes
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
