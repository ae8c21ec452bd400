"""validate over many dates in one pass (evtools.validate_all) gives, date by date, what the per-date path gives.

The reference is the per-date path itself: ``validate`` called with one date, once for every date of a generated
sample with faults made on purpose, and the results compared row by row with one multi-date run: success, observed
value, unexpected count, evidence (the same up to 10 company/date keys; fewer than 10 fail here). The faults (known here exactly, made after the aggregate was built):

- DAY_NULLS: 3 rows with a null company_id, 4 with null events (the frame's events become Int64, which GX does not
  accept as int64), 5 with events = -1;
- EARLY (before earliest_date): 2 rows of a date the suite's date range excludes;
- duplicates and late rows from the generator (retry and replay copies; 20% late rows, a lookback covering 90%);
- DAY_AGG: the aggregate's events of one key raised by 7, so its total differs from the deduplicated source;
- DAY_KEYS: 2 api_daily keys given twice;
- the run 3 days after the snapshot: every date is stale.

The suites are the shipped ones plus expectations that exercise the rewrite's options (mostly, strict bounds, a
pair with nulls, a type list) and two types it does not rewrite, which run per date.

The same comparison runs on that sample as a user's warehouse holds it (other column names, text company ids, VARCHAR
event ids, INTEGER events), and on every date of the committed sample, whose duplicate rows and late rows per date are
also counted here independently (the generator's ground truth; a pandas recount of the arrival lags).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil

import duckdb
import pandas as pd
import pytest

from evtools.analyses import expectations as ex
from evtools.analyses import refresh
from evtools.analyses.sample import SampleSpec, generate
from evtools.core.config import load_config
from evtools.engines import aggfile
from evtools.engines.queries import load_sql
from evtools.engines.sources import open_sources
from tests.conftest import write_config
from tests.test_foreign_schema import MAPPING

ROOT = ex.Path(__file__).resolve().parents[1]
START = dt.date(2026, 1, 1)
DAY_NULLS, DAY_AGG, DAY_KEYS = dt.date(2026, 1, 4), dt.date(2026, 1, 5), dt.date(2026, 1, 6)
EARLY = dt.date(2025, 12, 20)
SPEC = dict(
    rows=5_000, companies=4, days=9, seed=5, retry_rate=0.01, replay_rate=0.02, late_rate=0.2, tz_companies=0
)
KEY = ["suite", "batch", "date", "expectation", "column"]
COMPARED = ["success", "observed", "unexpected_count", "evidence"]
NOT_REWRITTEN = {"expect_column_max_to_be_between", "expect_column_values_to_be_unique"}
EXTRA = {
    "fact_events": [
        (
            "rows",
            "expect_column_values_to_be_between",
            {"column": "events", "min_value": 0, "max_value": 3, "mostly": 0.9},
        ),
        ("rows", "expect_column_values_to_not_be_null", {"column": "events", "mostly": 0.999}),
        (
            "rows",
            "expect_column_values_to_be_between",
            {
                "column": "date",
                "min_value": {"$PARAMETER": "earliest_date"},
                "max_value": {"$PARAMETER": "today"},
                "strict_min": True,
            },
        ),
        ("rows", "expect_column_pair_values_to_be_equal", {"column_A": "events", "column_B": "events"}),
        ("rows", "expect_column_values_to_be_in_type_list", {"column": "company_id", "type_list": ["int64"]}),
        ("rows", "expect_column_max_to_be_between", {"column": "events", "max_value": 4}),
        ("rows", "expect_column_values_to_be_unique", {"column": "event_id"}),
        ("duplicates", "expect_column_values_to_be_between", {"column": "n", "max_value": 2}),
        (
            "duplicates",
            "expect_column_sum_to_be_between",
            {"column": "extra", "max_value": 3, "strict_max": True},
        ),
        (
            "lateness",
            "expect_column_values_to_be_between",
            {"column": "late_share", "max_value": 0.05, "strict_max": True},
        ),
        ("freshness", "expect_column_values_to_be_between", {"column": "hours_since_newest", "min_value": 0}),
    ],
    "api_daily": [
        ("rows", "expect_column_values_to_not_be_null", {"column": "events"}),
        ("rows", "expect_column_values_to_be_in_type_list", {"column": "events", "type_list": ["int64"]}),
    ],
    "agg_company_daily_events": [
        (
            "totals",
            "expect_column_pair_values_to_be_equal",
            {
                "column_A": "aggregate_events",
                "column_B": "source_events",
                "ignore_row_if": "either_value_is_missing",
            },
        ),
        ("totals", "expect_column_sum_to_be_between", {"column": "aggregate_events", "min_value": 1}),
    ],
}
pytestmark = pytest.mark.slow


def _write_rows(path, change) -> None:
    frame = duckdb.connect().execute("SELECT * FROM read_parquet($p)", {"p": str(path)}).df()
    frame = change(frame)
    frame.to_parquet(path)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """(config, suites folder, run time, every date of fact_events) of the sample with the faults above."""
    root = tmp_path_factory.mktemp("validate_all")
    meta = generate(SampleSpec(**SPEC), root / "s", progress=False)
    config = load_config(root / "s" / "evtools.toml", overrides={"coverage_target": 0.9})
    # the aggregate as of 3 days before the last ingestion: the rows of those days, among them duplicates and
    # corrections of events ingested before, come after its watermark (the totals are as of the watermark)
    newest = open_sources(config, check=False).execute("SELECT max(ingested_at) FROM fact_events").fetchall()[0][0]
    refresh.refresh(config, until=dt.datetime.combine(newest.date() - dt.timedelta(days=3), dt.time()))
    files = sorted((root / "s" / "fact_events").glob("*.parquet"))
    # a lookback covering 90% of events leaves late rows on some dates (written into the file: the CLI reads it too)
    with (root / "s" / "evtools.toml").open("a") as f:
        f.write("coverage_target = 0.9\n")
    assert config.settings.coverage_target == load_config(root / "s" / "evtools.toml").settings.coverage_target

    def nulls(frame):
        on_day = frame.index[frame["date"] == pd.Timestamp(DAY_NULLS)]
        frame["company_id"] = frame["company_id"].astype("Int64")
        frame["events"] = frame["events"].astype("Int64")
        frame.loc[on_day[:3], "company_id"] = None
        frame.loc[on_day[3:7], "events"] = None
        frame.loc[on_day[7:12], "events"] = -1
        early = frame.iloc[:2].copy()
        early["date"] = pd.Timestamp(EARLY)
        return pd.concat([frame, early], ignore_index=True)

    _write_rows(files[DAY_NULLS.day - 1], nulls)
    _raise_one_aggregate_key(config)
    api = pd.read_csv(root / "s" / "api_daily.csv")
    pd.concat([api, api[api["date"] == DAY_KEYS.isoformat()].head(2)]).to_csv(
        root / "s" / "api_daily.csv", index=False
    )
    suites = root / "suites"
    shutil.copytree(ROOT / "expectations", suites)
    for name, extra in EXTRA.items():
        suite = json.loads((suites / f"{name}.json").read_text())
        suite["expectations"] += [{"type": t, "kwargs": k, "meta": {"batch": b}} for b, t, k in extra]
        (suites / f"{name}.json").write_text(json.dumps(suite))
    as_of = dt.datetime.fromisoformat(meta["snapshot"]) + dt.timedelta(days=3)
    dates = [r[0] for r in open_sources(config, check=False).execute(load_sql("dates")).fetchall()]
    return config, suites, as_of, dates


def _raise_one_aggregate_key(config) -> None:
    """DAY_AGG's fault: the aggregate's events of its first company on DAY_AGG raised by 7, in the database and in
    the snapshot its readers (validate) open."""
    for path in {config.aggregate_db, aggfile.readable(config.aggregate_db)}:
        con = duckdb.connect(str(path))
        con.execute(
            "UPDATE agg_company_daily_events SET events = events + 7 "
            "WHERE date = $d AND company_id = "
            "(SELECT min(company_id) FROM agg_company_daily_events WHERE date = $d)",
            {"d": DAY_AGG},
        )
        con.close()


@pytest.fixture(scope="module")
def per_date(faulty) -> pd.DataFrame:
    """The reference: ``validate`` called once for each date of the faulty sample."""
    config, suites, as_of, dates = faulty
    return pd.concat(
        [ex.validate(config, dates=[d], folder=suites, as_of=as_of).results for d in dates], ignore_index=True
    )


def test_all_dates_in_one_pass_equal_the_per_date_path(faulty, per_date, tmp_path, caplog):
    config, suites, as_of, dates = faulty
    with caplog.at_level(logging.INFO, logger="evtools.analyses.validate_all"):
        fast = ex.validate(config, dates=dates, folder=suites, as_of=as_of, docs=tmp_path / "docs")
    assert (
        len(fast.results)
        == len(per_date)
        == len(dates)
        * sum(len(json.loads((suites / f"{s}.json").read_text())["expectations"]) for s in ex.SUITES)
    )
    _assert_same(fast.results, per_date)
    # the same order as the per-date runs, suite by suite
    suite_order = {s: i for i, s in enumerate(ex.SUITES)}
    expected = per_date.sort_values(
        ["suite", "date"], key=lambda c: c.map(suite_order) if c.name == "suite" else c
    )
    assert fast.results[KEY].values.tolist() == expected[KEY].values.tolist()
    failed = _assert_made_faults_fail(fast.results)
    assert (
        failed.loc[
            ("fact_events", "rows", str(DAY_NULLS), "expect_column_values_to_be_in_type_list", "events", 0),
            "observed",
        ]
        == "int64"
    )
    kinds = set(failed.index.droplevel([2, 5]))
    assert ("fact_events", "duplicates", "expect_column_sum_to_be_between", "extra") in kinds
    assert ("fact_events", "lateness", "expect_column_values_to_be_between", "late_share") in kinds
    assert ("fact_events", "freshness", "expect_column_values_to_be_between", "hours_since_newest") in kinds
    # only the types it cannot rewrite ran on the per-date path
    per_date_types = {
        r.getMessage().split(": ")[1].split(" ")[0]
        for r in caplog.records
        if "runs per date" in r.getMessage()
    }
    assert per_date_types == NOT_REWRITTEN
    assert (tmp_path / "docs" / "index.html").is_file()


def _keyed(results: pd.DataFrame) -> pd.DataFrame:
    """Results indexed by KEY and the expectation's rank among the suite's with that key (a column checked twice)."""
    return results.assign(nth=results.groupby(KEY).cumcount()).set_index([*KEY, "nth"])


def _compared(row: pd.Series) -> list:
    """The compared values of a result; evidence as its set of company/date keys (the per-date frame of a rows batch
    lists them in the files' order, the one-pass path by company)."""
    return [_plain(v) for v in row[COMPARED[:-1]]] + [set(row["evidence"].split("; "))]


def _plain(value):
    """A result value as compared: numpy scalars as Python values, NaN and None alike."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


MADE = {
    ("fact_events", "rows", str(DAY_NULLS), "expect_column_values_to_not_be_null", "company_id"): 3,
    ("fact_events", "rows", str(DAY_NULLS), "expect_column_values_to_not_be_null", "events"): 4,
    ("fact_events", "rows", str(DAY_NULLS), "expect_column_values_to_be_between", "events"): 5,
    ("fact_events", "rows", str(EARLY), "expect_column_values_to_be_between", "date"): 2,
    (
        "agg_company_daily_events",
        "totals",
        str(DAY_AGG),
        "expect_column_pair_values_to_be_equal",
        "aggregate_events=source_events",
    ): 1,
    ("api_daily", "keys", str(DAY_KEYS), "expect_column_values_to_be_between", "n"): 2,
}


def _assert_same(mine: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """The same results, expectation by expectation and date by date: success, observed value, unexpected count and
    evidence."""
    assert len(mine) == len(theirs)
    mine, theirs = _keyed(mine), _keyed(theirs)
    assert set(mine.index) == set(theirs.index)
    differing = [
        (key, mine.loc[key, COMPARED].tolist(), theirs.loc[key, COMPARED].tolist())
        for key in theirs.index
        if _compared(mine.loc[key]) != _compared(theirs.loc[key])
    ]
    assert not differing, differing[:5]


def _assert_made_faults_fail(results: pd.DataFrame) -> pd.DataFrame:
    """Each fault made in the faulty sample fails where it was made, with the count made; the failed rows, keyed."""
    keyed = _keyed(results)
    failed = keyed[~keyed["success"]]
    for key, count in MADE.items():
        assert failed.loc[(*key, 0), "unexpected_count"] == count, key
    nulls = ("fact_events", "rows", str(DAY_NULLS), "expect_column_values_to_not_be_null", "company_id", 0)
    assert failed.loc[nulls, "evidence"] == f"null/{DAY_NULLS}"
    return failed


@pytest.fixture(scope="module")
def foreign(faulty, tmp_path_factory):
    """(config, suites folder, run time, dates) of the faulty sample as a user's warehouse holds it: other column
    names, text company ids ('acct-1001'), VARCHAR event ids and INTEGER events; its aggregate built from those, with
    DAY_AGG's fault made again."""
    config, suites, as_of, _ = faulty
    src, tmp = config.path.parent, tmp_path_factory.mktemp("validate_all_foreign")
    con = duckdb.connect()
    facts = (
        "COPY (SELECT event_id::VARCHAR AS record_uid, 'acct-' || company_id AS account_id, date AS event_date, "
        "event_ts AS happened_at, events::INTEGER AS event_count, ingested_at AS loaded_at, load_id AS batch "
        "FROM read_parquet($src) WHERE (company_id IS NOT NULL AND events IS NOT NULL) OR $all) "
        "TO $dst (FORMAT parquet)"
    )
    values = {"src": str(src / "fact_events" / "*.parquet"), "dst": str(tmp / "facts.parquet")}
    con.execute(facts, values | {"all": False})  # the aggregate is built before the null keys arrive
    con.execute(
        "COPY (SELECT 'acct-' || company_id AS account, date AS day, events AS n FROM read_csv($src)) "
        "TO $dst (HEADER)",
        {"src": str(src / "api_daily.csv"), "dst": str(tmp / "api.csv")},
    )
    con.execute(
        "COPY (SELECT 'acct-' || company_id AS account, date AS day, events AS total, computed_at AS built "
        "FROM read_parquet($src)) TO $dst (FORMAT parquet)",
        {"src": str(src / "dashboard.parquet"), "dst": str(tmp / "dash.parquet")},
    )
    s = config.settings
    path = write_config(
        tmp,
        '[sources]\nfact_events = "facts.parquet"\napi_daily = "api.csv"\ndashboard = "dash.parquet"\n'
        + MAPPING
        + f"lookback_days = {s.lookback_days}\nearliest_date = {s.earliest_date}\n"
        + f"coverage_target = {s.coverage_target}\n",
    )
    foreign = load_config(path)
    refresh.refresh(foreign)
    _raise_one_aggregate_key(foreign)
    con.execute(facts, values | {"all": True})
    dates = [r[0] for r in open_sources(foreign, check=False).execute(load_sql("dates")).fetchall()]
    return foreign, suites, as_of, dates


def test_a_foreign_schema_gives_the_per_date_results(foreign, faulty):
    config, suites, as_of, dates = foreign
    assert dates == faulty[3]
    fast = ex.validate(config, dates=dates, folder=suites, as_of=as_of)
    reference = ex.validate(config, dates=dates, folder=suites, as_of=as_of, one_pass=False)
    _assert_same(fast.results, reference.results)
    failed = _assert_made_faults_fail(fast.results)
    # text ids: the suite's int64 type list on company_id fails on every date
    type_list = ("fact_events", "rows", "expect_column_values_to_be_in_type_list", "company_id")
    assert {k[2] for k in failed.index if (*k[:2], *k[3:5]) == type_list} == {str(d) for d in dates}
    keys = failed.loc[("api_daily", "keys", str(DAY_KEYS), "expect_column_values_to_be_between", "n", 0), "evidence"]
    assert keys.startswith("acct-") and keys.endswith(f"/{DAY_KEYS}")


def test_validate_all_cli_exits_1_with_the_per_date_results(faulty, per_date, tmp_path):
    from evtools.app.cli import main

    config, suites, as_of, dates = faulty
    args = ["validate", "--all", "--suite", "api_daily", "--config", str(config.path), "--suites", str(suites)]
    assert main([*args, "--as-of", str(as_of), "--no-progress", "--out", str(tmp_path / "v")]) == 1
    written = json.loads((tmp_path / "v" / "validation.json").read_text())
    reference = per_date[per_date["suite"] == "api_daily"]
    assert written["summary"]["dates"] == [str(d) for d in dates]
    assert written["summary"]["failed"] == int((~reference["success"]).sum()) > 0
    results = pd.DataFrame(written["results"])
    mine, theirs = _keyed(results), _keyed(reference)
    assert set(mine.index) == set(theirs.index)
    for column in ("success", "unexpected_count"):
        assert [_plain(v) for v in mine.loc[theirs.index, column]] == [_plain(v) for v in theirs[column]], column


@pytest.fixture(scope="module")
def sample(tmp_path_factory, sample_dir):
    """(config, run time, dates) of a copy of the committed sample, its aggregate built."""
    folder = tmp_path_factory.mktemp("validate_all_sample") / "sample"
    shutil.copytree(sample_dir, folder, ignore=shutil.ignore_patterns(".evtools"))
    config = load_config(folder / "evtools.toml")
    refresh.refresh(config)
    as_of = dt.datetime.fromisoformat(json.loads((folder / "sample.json").read_text())["snapshot"])
    dates = [r[0] for r in open_sources(config, check=False).execute(load_sql("dates")).fetchall()]
    return config, as_of, dates


def test_every_date_of_the_sample_gives_the_per_date_results(sample, truth, fact_frame, quick):
    """make test-all: all 60 dates; make test: every sixth (10 dates, failing and passing ones among them)."""
    config, as_of, every = sample
    assert len(every) == 60
    dates = every[::6] if quick else every
    suites = ROOT / "expectations"
    fast = ex.validate(config, dates=dates, folder=suites, as_of=as_of)
    reference = ex.validate(config, dates=dates, folder=suites, as_of=as_of, one_pass=False)
    _assert_same(fast.results, reference.results)
    r = fast.results.set_index(["expectation", "column", "date"]).sort_index()
    # duplicate rows per date: the generator's truth; the threshold is 0
    assert config.settings.max_duplicate_rows == 0
    want = truth.assign(date=truth["date"].astype(str)).groupby("date")["duplicate_rows"].sum()
    extra = r.loc[("expect_column_sum_to_be_between", "extra")]
    assert {d: int(v) for d, v in extra["observed"].items()} == {str(d): int(want[str(d)]) for d in dates}
    assert extra["success"].tolist() == [want[d] == 0 for d in extra.index]
    # late rows per date: a pandas recount of arrival lags beyond the recommended lookback; some dates pass, some fail
    lookback = fast.summary["recommended_lookback_days"]
    lag = (fact_frame["ingested_at"].dt.normalize() - pd.to_datetime(fact_frame["date"])).dt.days
    share = (lag > lookback).groupby(pd.to_datetime(fact_frame["date"]).dt.date.astype(str)).mean()
    late = r.loc[("expect_column_values_to_be_between", "late_share")]
    passes = (share[late.index] <= config.settings.max_late_share).tolist()
    assert late["success"].tolist() == passes and any(passes) and not all(passes)


def test_rows_without_an_event_id_count_as_the_per_date_path_counts_them(tmp_path, sample_dir):
    """Rows without an event_id that repeat one another (same company, date and events) form a duplicate group on
    the per-date path; the one-pass path must find the same group: 2 extra rows on DAY, 0 on the day after."""
    folder = tmp_path / "s"
    shutil.copytree(sample_dir, folder, ignore=shutil.ignore_patterns(".evtools"))
    day = dt.date(2026, 1, 20)

    def three_without_id(frame):
        rows = frame[frame["date"] == pd.Timestamp(day)].head(1)
        rows = pd.concat([rows] * 3, ignore_index=True)
        frame["event_id"] = frame["event_id"].astype("Int64")
        rows["event_id"] = pd.array([None] * 3, dtype="Int64")
        return pd.concat([frame, rows], ignore_index=True)

    (path,) = (folder / "fact_events").glob(f"*{day.isoformat()}*.parquet")  # the day's own ingestion file
    _write_rows(path, three_without_id)
    config = load_config(folder / "evtools.toml")
    dates = [day, day + dt.timedelta(days=1)]
    as_of = dt.datetime(2026, 3, 3)
    fast = ex.validate(config, ("fact_events",), dates, folder=ROOT / "expectations", as_of=as_of)
    slow = ex.validate(config, ("fact_events",), dates, folder=ROOT / "expectations", as_of=as_of, one_pass=False)
    _assert_same(fast.results, slow.results)
    extra = _extra_rows(slow.results)
    base = ex.validate(
        load_config(sample_dir / "evtools.toml"), ("fact_events",), dates, folder=ROOT / "expectations", as_of=as_of
    )
    before = _extra_rows(base.results)
    assert int(extra.loc[str(day), "observed"]) == int(before.loc[str(day), "observed"]) + 2
    assert int(extra.loc[str(dates[1]), "observed"]) == int(before.loc[str(dates[1]), "observed"])


def _extra_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The duplicates batch's check of extra rows, one row per date."""
    return results.set_index(["expectation", "column", "date"]).sort_index().loc[("expect_column_sum_to_be_between", "extra")]


def test_evidence_names_the_first_ten_companies_in_the_per_date_frames_order():
    """The evidence of a failing duplicates date: the first 10 distinct companies of its frame in the frame's order
    (extra descending, then company_id, then event_id, nulls last; gx_fact_duplicates.sql), here against pandas'
    sort of the same rows: 14 companies with tied extras, event ids missing, two dates."""
    import random

    import sqlglot.expressions as exp

    from evtools.analyses import validate_all

    rng = random.Random(7)
    rows = []
    for day in (dt.date(2026, 1, 5), dt.date(2026, 1, 6)):
        for company in range(1, 15):
            for _ in range(rng.randint(1, 4)):
                extra = rng.choice([1, 1, 2, 3])
                event = rng.choice([None, rng.randint(1, 50)])
                rows.append((company, day, event, 5, extra + 1, extra))
    frame = pd.DataFrame(rows, columns=["company_id", "date", "event_id", "events", "n", "extra"])
    frame["event_id"] = frame["event_id"].astype("Int64")
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TEMP TABLE _gx_batch AS SELECT * FROM frame")
    query = validate_all._evidence_query("duplicates", exp.true()).sql(dialect="duckdb")
    days = [dt.date(2026, 1, 5), dt.date(2026, 1, 6)]
    got = con.execute(query, {"days": days}).df()
    for day in days:
        ordered = frame[frame["date"] == day].sort_values(
            ["extra", "company_id", "event_id"], ascending=[False, True, True], na_position="last", kind="stable"
        )
        want = list(dict.fromkeys(ordered["company_id"]))[:10]
        assert list(got[pd.to_datetime(got["date"]).dt.date == day]["company_id"]) == want
