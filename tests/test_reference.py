"""evtools against the independent reference (tests/reference.py) on random tables, key by key.

The tables mix everything the definitions have to survive: retries (a payload repeated), corrections (a new events
value), moves to another date or company, deletions (0 events), replays of superseded versions after their
correction, rows with equal ingested_at, rows arriving after the dashboard computed their key, API keys never
ingested, dashboard values that were edited, and, in half of the cases, a mapped version column that overrides the
arrival order. Columns carry foreign names and company ids are text, so the mapping is exercised too.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evtools.analyses import quality, reconcile, refresh
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from tests import reference
from tests.conftest import write_config

D0 = dt.date(2026, 1, 1)
BASE = pd.Timestamp("2026-01-01")
FOREIGN = {"event_id": "uid", "company_id": "acct", "date": "day", "events": "n", "ingested_at": "loaded"}

payload = st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 2), st.integers(0, 4))  # company, day, events


@st.composite
def event_rows(draw, event_id: int) -> list[tuple]:
    """The rows of one event: 1-3 versions (payloads; events 0 is a deletion, another company or day a move), and
    1-6 arrivals, each of one of them at an hour in 0..30 with a version value 0..3. Arrivals of an earlier payload
    after a later one are replays of a superseded version; equal hours are equal ingested_at."""
    versions = draw(st.lists(payload, min_size=1, max_size=3, unique=True))
    arrivals = draw(
        st.lists(
            st.tuples(st.integers(0, len(versions) - 1), st.integers(0, 30), st.integers(0, 3)),
            min_size=1,
            max_size=6,
        )
    )
    return [(event_id, *versions[i], hour, version) for i, hour, version in arrivals]


@st.composite
def fact_rows(draw) -> list[tuple]:
    """The rows of 1-5 events: (event_id, company, day, events, hour, version)."""
    n = draw(st.integers(1, 5))
    return [row for e in range(1, n + 1) for row in draw(event_rows(e))]


dash_row = st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 2), st.integers(0, 20), st.integers(0, 32))
api_row = st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 2), st.integers(0, 20))
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # examples: conftest


def _fact(rows, versioned: bool) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            (e, c, D0 + dt.timedelta(days=d), v, BASE + pd.Timedelta(hours=h), ver)
            for e, c, d, v, h, ver in rows
        ],
        columns=["event_id", "company_id", "date", "events", "ingested_at", "version"],
    )
    return frame if versioned else frame.drop(columns="version")


def _dashboard(rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(c, D0 + dt.timedelta(days=d), v, BASE + pd.Timedelta(hours=h)) for c, d, v, h in rows],
        columns=["company_id", "date", "events", "computed_at"],
    )


def _api(rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(c, D0 + dt.timedelta(days=d), v) for c, d, v in rows], columns=["company_id", "date", "events"]
    )


def _write(frame: pd.DataFrame, path, names: dict) -> None:
    types = {
        "event_id": pa.int64(),
        "company_id": pa.string(),
        "date": pa.date32(),
        "events": pa.int64(),
        "ingested_at": pa.timestamp("us"),
        "computed_at": pa.timestamp("us"),
        "version": pa.int64(),
    }
    schema = pa.schema([(names.get(c, c), types[c]) for c in frame.columns])
    table = pa.Table.from_pandas(frame.rename(columns=names), schema=schema, preserve_index=False)
    pq.write_table(table, path)


def _setup(folder, fact: pd.DataFrame, dash: pd.DataFrame | None = None, api: pd.DataFrame | None = None):
    names = {**FOREIGN, "version": "rev"}
    _write(fact, folder / "fact.parquet", names)
    text = '[sources]\nfact_events = "fact.parquet"\n'
    mapping = "\n".join(f'{k} = "{v}"' for k, v in FOREIGN.items())
    if "version" in fact:
        mapping += '\nversion = "rev"'
    if dash is not None:
        _write(dash, folder / "dash.parquet", {"company_id": "acct", "events": "total", "computed_at": "at"})
        _write(api, folder / "api.parquet", {"company_id": "acct", "events": "total"})
        text += 'dashboard = "dash.parquet"\napi_daily = "api.parquet"\n'
        text += '[columns.dashboard]\ncompany_id = "acct"\nevents = "total"\ncomputed_at = "at"\n'
        text += '[columns.api_daily]\ncompany_id = "acct"\nevents = "total"\n'
    text += f"[columns.fact_events]\n{mapping}\n"
    text += f'[settings]\naggregate_db = "{folder / "agg.duckdb"}"\n'
    return load_config(write_config(folder, text))


def _frame(table) -> pd.DataFrame:
    frame = table.to_pandas() if hasattr(table, "to_pandas") else table
    frame = frame.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame.sort_values(["company_id", "date"]).reset_index(drop=True)


def _compare(got: pd.DataFrame, want: pd.DataFrame, columns: list[str]) -> None:
    got, want = _frame(got), _frame(want)
    assert got[["company_id", "date"]].values.tolist() == want[["company_id", "date"]].values.tolist()
    for column in columns:
        g = got[column].astype(object).where(got[column].notna(), None).tolist()
        w = want[column].astype(object).where(want[column].notna(), None).tolist()
        assert g == w, column


@SETTINGS
@given(
    rows=fact_rows(),
    dash=st.lists(dash_row, max_size=8),
    api=st.lists(api_row, max_size=8),
    versioned=st.booleans(),
)
def test_quality_waterfall_and_explain_equal_the_reference(tmp_path_factory, rows, dash, api, versioned):
    folder = tmp_path_factory.mktemp("ref")
    fact = _fact(rows, versioned)
    dashboard, api_frame = _dashboard(dash), _api(api)
    config = _setup(folder, fact, dashboard, api_frame)
    con = open_sources(config)

    got_q = quality.analyse(con, config)
    want_q = reference.quality(fact, dashboard)
    _compare(
        got_q.frame(),
        want_q,
        [
            "rows",
            "duplicate_rows",
            "duplicate_excess",
            "superseded_versions",
            "correction_excess",
            "latest_events",
            "late_rows",
            "late_events",
        ],
    )

    if dashboard.empty and api_frame.empty:
        return
    got_r = reconcile.reconcile(con, config)
    want_r = reference.waterfall(fact, dashboard, api_frame)
    _compare(
        got_r.frame(), want_r, ["dashboard_events", "api_events", "delta", *reference.COMPONENTS, "cause"]
    )

    differing = want_r[want_r["delta"] != 0].head(2)
    for key in differing.itertuples():
        e = reconcile.explain(open_sources(config), config, key.company_id, key.date)
        assert {c: e.waterfall[c] for c in reference.COMPONENTS} == {
            c: getattr(key, c) for c in reference.COMPONENTS
        }
        assert e.waterfall["cause"] == key.cause
        assert e.evidence("duplicate")["events"].sum() == key.duplicates
        assert e.evidence("superseded")["events"].sum() == key.corrections
        assert e.evidence("counted")["events"].sum() == key.latest_asof


@SETTINGS
@given(
    rows=fact_rows(),
    cuts=st.lists(st.integers(0, 32), min_size=1, max_size=4, unique=True),
    versioned=st.booleans(),
)
def test_refresh_in_steps_equals_the_reference(tmp_path_factory, rows, cuts, versioned):
    folder = tmp_path_factory.mktemp("refresh")
    fact = _fact(rows, versioned)
    config = _setup(folder, fact)
    for hour in sorted(cuts):
        until = (BASE + pd.Timedelta(hours=hour)).to_pydatetime()
        refresh.refresh(config, until=until)
        got = refresh.table(config)[["company_id", "date", "events", "rows"]]
        want = reference.aggregate(fact, until)
        _compare(got, want, ["events", "rows"])
    assert refresh.verify(config).empty


@SETTINGS
@given(rows=fact_rows(), versioned=st.booleans())
def test_the_job_query_printed_for_the_warehouse_equals_the_reference(tmp_path_factory, rows, versioned):
    """The corrected job query the report gives to apply (generated from sql/versions.sql), run as written on the
    canonical fact_events, sums the reference's latest versions on every key."""
    from evtools.engines.dialects import latest_job

    fact = _fact(rows, versioned)
    config = _setup(tmp_path_factory.mktemp("job"), fact)
    got = open_sources(config, names=("fact_events",)).execute(latest_job("duckdb")).df()
    _compare(got, reference.aggregate(fact), ["events"])


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_one_lookback_meaning_everywhere(tmp_path, k):
    """One row of each arrival lag 0, 1, ..., k + 1 (each ingested at noon of its own day), refreshed by a daily
    run at every midnight: quality's "missed by the configured lookback", the lookback strategy's runs and the gap
    its table ends with all name the same single row, the one of lag k + 1."""
    lags = list(range(k + 2))
    fact = pd.DataFrame(
        {
            "event_id": [10 + lag for lag in lags],
            "company_id": ["a"] * len(lags),
            "date": [D0 + dt.timedelta(days=5 - lag) for lag in lags],
            "events": [2**lag for lag in lags],
            "ingested_at": [pd.Timestamp("2026-01-06 12:00")] * len(lags),
        }
    )
    fact.loc[0, "ingested_at"] = pd.Timestamp("2026-01-05 12:00")  # a first day, so the table exists before
    fact.loc[0, "date"] = D0 + dt.timedelta(days=4)
    config = _setup(tmp_path, fact)
    (tmp_path / "evtools.toml").write_text((tmp_path / "evtools.toml").read_text() + f"lookback_days = {k}\n")
    config = load_config(tmp_path / "evtools.toml")
    late_events = 2 ** (k + 1)

    summary = quality.analyse(open_sources(config), config).summary
    assert summary["configured_lookback_missed_rows"] == 1
    assert summary["configured_lookback_missed_events"] == late_events

    missed = 0
    for day in (6, 7):
        run = refresh.refresh(config, until=dt.datetime(2026, 1, day), strategy="lookback")
        missed += run.missed_by_lookback_events
    assert missed == late_events
    gap = refresh.verify(config)
    assert int((gap["full_events"].fillna(0) - gap["table_events"].fillna(0)).sum()) == late_events
