"""Text company ids that are awkward in SQL text and in csv files give the same figures on every engine.

The ids hold single and double quotes, a backslash, a semicolon, a comma, leading and trailing spaces and non-ASCII
characters; the event ids and load ids are built from them. fact_events is parquet, api_daily and the dashboard are
csv files written by DuckDB (RFC 4180: a double quote in a value is written twice), as the sample's api_daily.csv is.
PostgreSQL holds the same rows in tables. Quality, reconciliation (every key), the explanation of a key of each kind
of id and the refresh (full, then incremental) on Spark and on PostgreSQL must equal DuckDB's key by key; DuckDB's
must equal the figures worked out by hand below.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evtools.analyses import quality, reconcile, refresh
from evtools.core.config import load_config
from evtools.engines import database, spark
from evtools.engines.sources import open_sources
from tests.conftest import PG_PASSWORD_ENV, write_config

IDS = [
    'QA "test" account',
    "O'Brien",
    "a\\b",
    "x;DROP TABLE fact_events;--",
    "a,b",
    " padded ",
    "Zürich 東京 🚀",
    "'; SELECT 1; --",
    '\\"',
    """ all: "q" 'q' \\ ; , -- Zürich 東京 🚀 """,
]
# explained one by one (each explanation is a reconciliation of its own): the reported id, a backslash before a
# quote, and the last id, which holds every awkward character at once
EXPLAINED = ['QA "test" account', '\\"', IDS[-1]]
DAY, NEXT = dt.date(2026, 1, 10), dt.date(2026, 1, 11)
T = dt.datetime(2026, 1, 11)  # when the dashboard computed DAY
LOADS = ['load "1"', "load '2'", "load\\3", "load;4"]


def fact_rows() -> list[tuple]:
    """Per company i, on DAY: an event of 5+i events ingested twice by T (a duplicate), an event of 3 events
    corrected to 4+i by T, an event of 7 events ingested after T (late); on NEXT one event of 2 events."""
    rows = []
    for i, company in enumerate(IDS):
        for n, events, ingested, load, date in (
            (1, 5 + i, dt.datetime(2026, 1, 10, 10), 0, DAY),
            (1, 5 + i, dt.datetime(2026, 1, 10, 11), 1, DAY),
            (2, 3, dt.datetime(2026, 1, 10, 9), 0, DAY),
            (2, 4 + i, dt.datetime(2026, 1, 10, 12), 1, DAY),
            (3, 7, dt.datetime(2026, 1, 12, 8), 3, DAY),
            (4, 2, dt.datetime(2026, 1, 11, 8), 2, NEXT),
        ):
            rows.append((f"{company}#{n}", company, date, events, ingested, LOADS[load]))
    return rows


# Worked out by hand from fact_rows, the API (15+i on both dates) and the dashboard (18+2i on DAY, computed at T):
#   raw_asof = 2(5+i) + 3 + (4+i) = 17+3i; latest_asof = (5+i) + (4+i) = 9+2i; latest_now = 16+2i
#   drift = (18+2i) - (17+3i) = 1-i; duplicates = 5+i; corrections = (17+3i) - (9+2i) - (5+i) = 3;
#   late = (9+2i) - (16+2i) = -7; residual = (16+2i) - (15+i) = 1+i; delta = (18+2i) - (15+i) = 3+i.
# On NEXT the dashboard has no row and no time (no offset setting): nothing is as of T, so late = 0 - 2 = -2 and
# residual = 2 - (15+i).
WATERFALL = ("dashboard_events", "api_events", "delta", "drift", "duplicates", "corrections", "late", "residual",
             "cause", "status")
HAND = {
    ('QA "test" account', DAY): (18, 15, 3, 1, 5, 3, -7, 1, "late", "mismatch"),  # i = 0
    ("O'Brien", DAY): (20, 16, 4, 0, 6, 3, -7, 2, "late", "mismatch"),  # i = 1
    ("Zürich 東京 🚀", DAY): (30, 21, 9, -5, 11, 3, -7, 7, "duplicates", "mismatch"),  # i = 6
    ('QA "test" account', NEXT): (0, 15, -15, 0, 0, 0, -2, -13, "residual", "missing_in_dashboard"),
}
# quality on DAY of company 0: 5 rows of 24 events, 1 duplicate row of 5 events, 1 superseded version of 3 events,
# 1 late row of 7 events; the latest versions sum to 5 + 4 + 7
HAND_QUALITY = dict(rows=5, duplicate_rows=1, duplicate_excess=5, correction_excess=3, superseded_versions=1,
                    late_rows=1, late_events=7, total_events=24, latest_events=16)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("awkward")
    names = ["event_id", "company_id", "date", "events", "ingested_at", "load_id"]
    facts = pa.table(dict(zip(names, map(list, zip(*fact_rows(), strict=True)), strict=True)))
    pq.write_table(facts, folder / "facts.parquet")
    n = len(IDS)
    api = pa.table({"company_id": IDS * 2, "date": [DAY] * n + [NEXT] * n, "events": [15 + i for i in range(n)] * 2})
    dash = pa.table({"company_id": IDS, "date": [DAY] * n, "events": [18 + 2 * i for i in range(n)],
                     "computed_at": [T] * n})
    con = duckdb.connect()
    for name, table in (("api", api), ("dash", dash)):
        con.register("_t", table)
        con.execute("COPY _t TO $p (HEADER)", {"p": str(folder / f"{name}.csv")})
        con.unregister("_t")
    assert '"QA ""test"" account"' in (folder / "api.csv").read_text(encoding="utf-8")  # RFC 4180 quoting
    return folder


@pytest.fixture(scope="module")
def local(files):
    """The DuckDB config over the files (the reference)."""
    return load_config(write_config(
        files, '[sources]\nfact_events = "facts.parquet"\napi_daily = "api.csv"\ndashboard = "dash.csv"\n'
    ))


@pytest.fixture(scope="module")
def duck(local):
    con = open_sources(local)
    yield con
    con.close()


def analyses(con, config) -> dict:
    """Quality and reconciliation on ``con``."""
    return {"quality": quality.analyse(con, config), "reconcile": reconcile.reconcile(con, config)}


@pytest.fixture(scope="module")
def expected(duck, local) -> dict:
    return analyses(duck, local)


def on_spark(config, lake: Path):
    engine = dataclasses.replace(config.engine, kind="spark", aggregate_path=str(lake))
    return dataclasses.replace(config, engine=engine)


def on_postgres(folder: Path, server, local, schema: str = "awkward", extra: str = ""):
    """A config reading the same rows, as DuckDB reads them, from tables of ``schema`` on ``server``."""
    con = open_sources(local)
    for table, source in (("facts", "fact_events"), ("api", "api_daily"), ("dash", "dashboard")):
        server.load(schema, table, con, f"SELECT * FROM {source}")
    return load_config(write_config(
        folder,
        f'[sources]\nfact_events = "table:{schema}.facts"\napi_daily = "table:{schema}.api"\n'
        f'dashboard = "table:{schema}.dash"\n[engine]\nkind = "sql"\nurl = "{server.url}"\n'
        f'password_env = "{PG_PASSWORD_ENV}"\n{extra}',
    ))


@dataclasses.dataclass
class Other:
    """An engine under test: its config, its connection and how it refreshes and reads the aggregate."""

    kind: str
    config: object
    con: object
    place: str

    def where(self):
        """The refresh's --db: a schema on PostgreSQL; on Spark the config's aggregate_path (no --db)."""
        return None if self.kind == "spark" else self.place

    def refresh(self, until):
        return refresh.refresh(self.config, self.where(), until=until, con=self.con)

    def table(self) -> pd.DataFrame:
        return refresh.table(self.config, self.where(), self.con)

    def verify(self) -> pd.DataFrame:
        return refresh.verify(self.config, self.where(), self.con)


@pytest.fixture(
    scope="module",
    params=[pytest.param("spark", marks=pytest.mark.spark), pytest.param("postgres", marks=pytest.mark.postgres)],
)
def other(request, local, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"awkward_{request.param}")
    if request.param == "spark":
        config = on_spark(local, folder / "lake")
        yield Other("spark", config, spark.connect(config), str(folder / "lake"))
        return
    config = on_postgres(folder, request.getfixturevalue("postgres"), local)
    con = database.connect(config)
    yield Other("postgres", config, con, "agg_awkward")
    con.close()


@pytest.fixture(scope="module")
def got(other) -> dict:
    return analyses(other.con, other.config)


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal cell by cell; a missing value is missing whatever the column's type (an all-NULL text column comes
    back from PostgreSQL as None, from DuckDB as NaN)."""
    assert list(left.columns) == list(right.columns)
    left, right = (f.reset_index(drop=True).astype(object) for f in (left, right))
    left, right = (f.where(f.notna(), None) for f in (left, right))
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


def by_key(frame: pd.DataFrame) -> dict:
    return {(r["company_id"], r["date"].date()): r for r in frame.to_dict(orient="records")}


def test_duckdb_figures_are_the_hand_computed_ones(expected, duck, local):
    rec = by_key(expected["reconcile"].frame())
    assert set(rec) == {(c, d) for c in IDS for d in (DAY, NEXT)}  # every id read back exactly, nothing more
    for key, figures in HAND.items():
        assert tuple(rec[key][k] for k in WATERFALL) == figures, key
    q = by_key(expected["quality"].frame())[(IDS[0], DAY)]
    assert {k: q[k] for k in HAND_QUALITY} == HAND_QUALITY
    explained = reconcile.explain(duck, local, IDS[0], DAY)
    assert tuple(explained.waterfall[k] for k in WATERFALL) == HAND[(IDS[0], DAY)]
    roles = explained.rows["role"].value_counts().to_dict()
    assert roles == {"counted": 2, "duplicate": 1, "superseded": 1, "after_t": 1}
    assert set(explained.rows["company_id"]) == {IDS[0]}


def test_quality_is_duckdbs(expected, got):
    assert_same_frame(got["quality"].frame(), expected["quality"].frame())
    assert got["quality"].summary == expected["quality"].summary
    assert_same_frame(got["quality"].replayed_loads, expected["quality"].replayed_loads)
    assert_same_frame(got["quality"].arrival_lag, expected["quality"].arrival_lag)


def test_reconciliation_is_duckdbs(expected, got):
    assert sorted(got["reconcile"].frame()["company_id"].unique()) == sorted(IDS)
    assert_same_frame(got["reconcile"].frame(), expected["reconcile"].frame())
    assert got["reconcile"].summary == expected["reconcile"].summary


@pytest.mark.parametrize("company", EXPLAINED, ids=["double_quotes", "backslash_quote", "every_kind"])
def test_explanation_is_duckdbs(duck, local, other, company):
    mine = reconcile.explain(other.con, other.config, company, DAY)
    theirs = reconcile.explain(duck, local, company, DAY)
    assert mine.company_id == theirs.company_id == company
    assert mine.waterfall == theirs.waterfall
    assert_same_frame(mine.rows, theirs.rows)


def test_refresh_is_duckdbs(local, other, tmp_path):
    db = tmp_path / "agg.duckdb"
    fields = ("mode", "rows_read", "keys_changed", "dates_recomputed")
    for until in (T, None):
        mine = other.refresh(until)
        theirs = refresh.refresh(local, db, until=until)
        assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
        assert_same_frame(
            other.table().drop(columns="refreshed_at"), refresh.table(local, db).drop(columns="refreshed_at")
        )
    assert mine.mode == "incremental"
    assert other.verify().empty
    agg = by_key(refresh.table(local, db))
    assert (agg[(IDS[0], DAY)]["events"], agg[(IDS[0], DAY)]["rows"]) == (16, 3)  # latest_now of HAND


@pytest.mark.postgres
def test_printed_reconcile_script_runs_in_psql_and_gives_duckdbs_figures(local, expected, postgres, tmp_path, capsys):
    """``evtools sql --script reconcile`` for PostgreSQL over the tables, run by psql as printed (the script reads the
    optional columns its mapping names: the dashboard's computed_at)."""
    from evtools.app.cli import main
    from tests.test_database import exported, psql

    mapping = '[columns.dashboard]\ncomputed_at = "computed_at"\n'
    config = on_postgres(tmp_path, postgres, local, "awkward_script", mapping)
    assert main(["sql", "--dialect", "postgres", "--script", "reconcile", "--config", str(config.path)]) == 0
    script = tmp_path / "reconcile.sql"
    script.write_text(capsys.readouterr().out, encoding="utf-8")
    out = tmp_path / "out.csv"
    export = tmp_path / "export.sql"
    export.write_text(f"\\copy (SELECT * FROM _reconcile_final ORDER BY company_id, date) TO '{out}' CSV HEADER\n")
    done = psql(postgres, script, export)
    assert done.returncode == 0, done.stderr[-2000:]
    got = exported(out)
    want = expected["reconcile"].frame()
    assert sorted(got["company_id"]) == sorted(want["company_id"])
    got["date"] = pd.to_datetime(got["date"])
    columns = ["company_id", "date", *WATERFALL[:-2], "cause", "status"]
    key = ["company_id", "date"]
    assert_same_frame(got[columns].sort_values(key), want[columns].sort_values(key))
