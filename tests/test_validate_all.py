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
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil

import duckdb
import pandas as pd
import pytest

from evtools import expectations as ex
from evtools import refresh
from evtools.config import load_config
from evtools.queries import load_sql
from evtools.sample import SampleSpec, generate
from evtools.sources import open_sources

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
    refresh.refresh(config)
    files = sorted((root / "s" / "fact_events").glob("*.parquet"))

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
    con = duckdb.connect(str(config.aggregate_db))
    con.execute(
        "UPDATE agg_company_daily_events SET events = events + 7 "
        "WHERE date = $d AND company_id = (SELECT min(company_id) FROM agg_company_daily_events)",
        {"d": DAY_AGG},
    )
    con.close()
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


def test_all_dates_in_one_pass_equal_the_per_date_path(faulty, tmp_path, caplog):
    config, suites, as_of, dates = faulty
    with caplog.at_level(logging.INFO, logger="evtools.validate_all"):
        fast = ex.validate(config, dates=dates, folder=suites, as_of=as_of, docs=tmp_path / "docs")
    per_date = pd.concat(
        [ex.validate(config, dates=[d], folder=suites, as_of=as_of).results for d in dates], ignore_index=True
    )
    assert (
        len(fast.results)
        == len(per_date)
        == len(dates)
        * sum(len(json.loads((suites / f"{s}.json").read_text())["expectations"]) for s in ex.SUITES)
    )
    mine, theirs = _keyed(fast.results), _keyed(per_date)
    assert set(mine.index) == set(theirs.index)
    differing = [
        (key, mine.loc[key, COMPARED].tolist(), theirs.loc[key, COMPARED].tolist())
        for key in theirs.index
        if _compared(mine.loc[key]) != _compared(theirs.loc[key])
    ]
    assert not differing, differing[:5]
    # the same order as the per-date runs, suite by suite
    suite_order = {s: i for i, s in enumerate(ex.SUITES)}
    expected = per_date.sort_values(
        ["suite", "date"], key=lambda c: c.map(suite_order) if c.name == "suite" else c
    )
    assert fast.results[KEY].values.tolist() == expected[KEY].values.tolist()
    # the faults did fail, each where it was made
    failed = theirs[~theirs["success"]]
    made = {
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
    for key, count in made.items():
        assert failed.loc[(*key, 0), "unexpected_count"] == count, key
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
