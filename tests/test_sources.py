"""Sources: every format and the duckdb: form become canonical views; bad configs and bad data give one clear error.

The tiny table used here (``ROWS``) has 4 rows over 2 companies; its canonical sums are known by hand:
company 'acme' has 3 + 4 = 7 events on 2026-01-01 and 5 on 2026-01-02; 'bolt' has 1 on 2026-01-01.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from evtools.core.config import load_config
from evtools.core.errors import ConfigError, DataError
from evtools.engines.queries import quote_ident
from evtools.engines.sources import open_sources
from tests.conftest import write_config

FOREIGN = {
    "event_id": "record_uid",
    "company_id": "account_id",
    "date": "event_date",
    "events": "event_count",
    "ingested_at": "loaded_at",
}
ROWS = """
    SELECT * FROM (VALUES
        ('r1', 'acme', DATE '2026-01-01', 3, TIMESTAMP '2026-01-01 05:00:00', TIMESTAMPTZ '2026-01-01 04:00:00+00'),
        ('r2', 'acme', DATE '2026-01-01', 4, TIMESTAMP '2026-01-01 06:00:00', TIMESTAMPTZ '2026-01-01 05:00:00+00'),
        ('r3', 'acme', DATE '2026-01-02', 5, TIMESTAMP '2026-01-02 07:00:00', TIMESTAMPTZ '2026-01-02 06:00:00+00'),
        ('r4', 'bolt', DATE '2026-01-01', 1, TIMESTAMP '2026-01-03 01:00:00', TIMESTAMPTZ '2026-01-01 23:30:00-05')
    ) t(record_uid, account_id, event_date, event_count, loaded_at, happened_at)
"""
MAPPING = "\n".join(f'{k} = "{v}"' for k, v in FOREIGN.items()) + '\nevent_ts = "happened_at"\n'
EXPECTED = [
    ("acme", dt.date(2026, 1, 1), 7),
    ("acme", dt.date(2026, 1, 2), 5),
    ("bolt", dt.date(2026, 1, 1), 1),
]


def _write(tmp_path, fmt: str) -> str:
    con = duckdb.connect()
    if fmt == "duckdb":
        con.close()
        db = duckdb.connect(str(tmp_path / "wh.duckdb"))
        db.execute("CREATE SCHEMA raw")
        db.execute(f"CREATE TABLE raw.events AS {ROWS}")
        db.close()
        return "duckdb:wh.duckdb:raw.events"
    if fmt == "hive":
        con.execute(
            f"COPY ({ROWS}) TO $p (FORMAT parquet, PARTITION_BY (event_date))", {"p": str(tmp_path / "hive")}
        )
        return "hive"
    ext = {"parquet": "parquet", "csv": "csv", "json": "jsonl", "glob": "parquet"}[fmt]
    options = {"parquet": "FORMAT parquet", "csv": "HEADER", "json": "FORMAT json", "glob": "FORMAT parquet"}[
        fmt
    ]
    (tmp_path / "parts").mkdir()
    for part in ("acme", "bolt"):
        con.execute(
            f"COPY (SELECT * FROM ({ROWS}) WHERE account_id = $a) TO $p ({options})",
            {"a": part, "p": str(tmp_path / "parts" / f"{part}.{ext}")},
        )
    return "parts/*.parquet" if fmt == "glob" else f"parts/*.{ext}"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json", "glob", "hive", "duckdb"])
def test_every_format_becomes_the_canonical_view(tmp_path, fmt):
    location = _write(tmp_path, fmt)
    path = write_config(tmp_path, f'[sources]\nfact_events = "{location}"\n[columns.fact_events]\n{MAPPING}')
    con = open_sources(load_config(path))
    got = con.execute(
        "SELECT company_id, date, sum(events) FROM fact_events GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert got == EXPECTED
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE fact_events)").fetchall())
    assert types["company_id"] == "VARCHAR"  # the user's string ids stay strings
    assert types["events"] == "BIGINT" and types["date"] == "DATE" and types["ingested_at"] == "TIMESTAMP"
    # a zoned event_ts is converted to UTC: bolt's 23:30-05 is 04:30 on the next UTC day
    ts = con.execute("SELECT event_ts FROM fact_events WHERE event_id = 'r4'").fetchall()[0][0]
    assert ts == dt.datetime(2026, 1, 2, 4, 30)


def test_timestamp_date_column_is_cast_to_its_utc_date(tmp_path):
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 1 AS event_id, 7 AS company_id, TIMESTAMPTZ '2026-01-01 22:00:00-05' AS date, 2 AS events, "
        "TIMESTAMP '2026-01-02 10:00:00' AS ingested_at) TO $p (FORMAT parquet)",
        {"p": str(tmp_path / "f.parquet")},
    )
    config = load_config(write_config(tmp_path, '[sources]\nfact_events = "f.parquet"\n'))
    rows = open_sources(config).execute("SELECT company_id, date FROM fact_events").fetchall()
    assert rows == [(7, dt.date(2026, 1, 2))]  # integer ids stay integers; 22:00-05 is Jan 2 in UTC


def test_sample_config_opens_all_three_sources(sample_con):
    names = {
        r[0] for r in sample_con.execute("SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()
    }
    assert {"fact_events", "api_daily", "dashboard"} <= names


def test_relative_paths_are_relative_to_the_config_folder(tmp_path, monkeypatch):
    _write(tmp_path, "parquet")
    path = write_config(
        tmp_path, f'[sources]\nfact_events = "parts/*.parquet"\n[columns.fact_events]\n{MAPPING}'
    )
    monkeypatch.chdir("/")
    assert open_sources(load_config(path)).execute("SELECT count(*) FROM fact_events").fetchall() == [(4,)]


# ---- bad config ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[sources]\nfact_events = 'x.parquet'\n[settings]\nlookbak_days = 3\n",
            "unknown key 'settings.lookbak_days'",
        ),
        ("[sources]\nfact_events = 'x.parquet'\nfacts = 'y'\n", "unknown key 'sources.facts'"),
        (
            "[sources]\nfact_events = 'x.parquet'\n[columns.fact_events]\ncompany = 'a'\n",
            "columns.fact_events.company",
        ),
        (
            "[sources]\nfact_events = 'x.parquet'\n[settings]\nlookback_days = 'two'\n",
            "expected int, found a string",
        ),
        ("[sources]\nfact_events = 'x.parquet'\n[settings]\ncoverage_target = 2.0\n", "coverage_target"),
        ("[sources]\nfact_events = 3\n", "sources.fact_events: expected a path string"),
        ("[sources]\napi_daily = 'a.csv'\n", "lacks 'fact_events'"),
        ("[sources]\nfact_events = 'duckdb:only'\n", "expected duckdb:FILE:TABLE"),
        ("[sources\n", "not valid TOML"),
        (
            "[sources]\nfact_events = 'x.parquet'\n[columns.fact_events]\nevent_id = 5\n",
            "expected a column name",
        ),
    ],
)
def test_bad_config_names_the_file_and_key(tmp_path, text, message):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


# ---- bad data -----------------------------------------------------------------------------------------------------


def _data_error(tmp_path, select: str, mapping: str = "") -> str:
    duckdb.connect().execute(f"COPY ({select}) TO $p (FORMAT parquet)", {"p": str(tmp_path / "f.parquet")})
    path = write_config(tmp_path, f'[sources]\nfact_events = "f.parquet"\n{mapping}')
    with pytest.raises(DataError) as err:
        open_sources(load_config(path))
    assert "\n" not in str(err.value)
    return str(err.value)


GOOD = "1 AS event_id, 7 AS company_id, DATE '2026-01-01' AS date, 2 AS events, TIMESTAMP '2026-01-02' AS ingested_at"


def test_missing_file(tmp_path):
    path = write_config(tmp_path, '[sources]\nfact_events = "nowhere.parquet"\n')
    with pytest.raises(DataError, match=r"nowhere.parquet: file not found"):
        open_sources(load_config(path))


def test_glob_matching_nothing(tmp_path):
    path = write_config(tmp_path, '[sources]\nfact_events = "none/*.parquet"\n')
    with pytest.raises(DataError, match="no data file matches"):
        open_sources(load_config(path))


def test_missing_column_names_user_and_canonical_names(tmp_path):
    msg = _data_error(tmp_path, f"SELECT {GOOD}", "[columns.fact_events]\ncompany_id = 'account_id'\n")
    assert "column 'account_id' (fact_events.company_id) not found" in msg
    assert "found columns: event_id, company_id" in msg


def test_wrong_type_says_expected_and_found(tmp_path):
    msg = _data_error(tmp_path, f"SELECT {GOOD.replace('2 AS events', '2.5 AS events')}")
    assert "column 'events' (fact_events.events): expected an integer type, found DECIMAL(2,1)" in msg


def test_wrong_timestamp_type(tmp_path):
    msg = _data_error(
        tmp_path, f"SELECT {GOOD.replace(chr(84) + 'IMESTAMP ' + chr(39) + '2026-01-02' + chr(39), '42')}"
    )
    assert "fact_events.ingested_at): expected a timestamp, found INTEGER" in msg


def test_null_keys_are_rejected(tmp_path):
    msg = _data_error(tmp_path, f"SELECT {GOOD.replace('7 AS company_id', 'NULL::INT AS company_id')}")
    assert "column 'company_id' (fact_events.company_id) has 1 null values; expected none" in msg


def test_duckdb_table_not_found(tmp_path):
    duckdb.connect(str(tmp_path / "wh.duckdb")).close()
    path = write_config(tmp_path, '[sources]\nfact_events = "duckdb:wh.duckdb:nope"\n')
    with pytest.raises(DataError, match="table 'nope' not found"):
        open_sources(load_config(path))


def test_unreadable_file(tmp_path):
    (tmp_path / "f.parquet").write_text("not parquet")
    path = write_config(tmp_path, '[sources]\nfact_events = "f.parquet"\n')
    with pytest.raises(DataError, match="cannot read as parquet"):
        open_sources(load_config(path))


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("plain", '"plain"'), ('we"ird', '"we""ird"'), ("sp ace", '"sp ace"'), ("select", '"select"')],
)
def test_quote_ident(name, quoted):
    assert quote_ident(name) == quoted
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({quote_ident(name)} INT)")
    assert con.execute("SELECT column_name FROM (DESCRIBE t)").fetchall() == [(name,)]


@pytest.mark.parametrize("bad", ["", "a\x00b", None])
def test_quote_ident_rejects_unusable(bad):
    with pytest.raises(ValueError):
        quote_ident(bad)
