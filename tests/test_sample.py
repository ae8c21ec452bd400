"""The generator: deterministic for a seed, and its ground truth is what the data shows.

The recounts here are written independently in pandas, straight from the definitions, over the committed sample.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evtools.analyses.sample import SampleSpec, generate
from tests import reference

KEY = ["company_id", "date"]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _frames(folder: Path) -> dict[str, pd.DataFrame]:
    fact = pd.concat(pd.read_parquet(p) for p in sorted((folder / "fact_events").glob("*.parquet")))
    return {
        "fact": fact.reset_index(drop=True),
        "api": pd.read_csv(folder / "api_daily.csv"),
        "dash": pd.read_parquet(folder / "dashboard.parquet"),
        "truth": pd.read_parquet(folder / "ground_truth.parquet"),
    }


def test_same_seed_same_sample_other_seed_other_sample(tmp_path):
    spec = SampleSpec(rows=5_000, companies=5, days=10, seed=3)
    generate(spec, tmp_path / "a", progress=False)
    generate(spec, tmp_path / "b", progress=False)
    generate(SampleSpec(rows=5_000, companies=5, days=10, seed=4), tmp_path / "c", progress=False)
    a, b, c = (_frames(tmp_path / x) for x in "abc")
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["fact"]["event_id"].equals(c["fact"]["event_id"]) or not a["fact"]["events"].equals(
        c["fact"]["events"]
    )


def test_committed_sample_is_what_the_generator_makes(sample_dir, tmp_path):
    generate(SampleSpec(), tmp_path / "s", progress=False)
    fresh, committed = _frames(tmp_path / "s"), _frames(sample_dir)
    for name in fresh:
        pd.testing.assert_frame_equal(fresh[name], committed[name])


def test_fact_events_are_in_ingestion_order_one_file_per_day(sample_dir):
    files = sorted((sample_dir / "fact_events").glob("*.parquet"))
    previous = pd.Timestamp.min
    for path in files:
        frame = pd.read_parquet(path)
        day = dt.date.fromisoformat(path.stem.removeprefix("ingested_"))
        assert (frame["ingested_at"].dt.date == day).all()
        assert frame["ingested_at"].is_monotonic_increasing
        assert frame["ingested_at"].iloc[0] >= previous
        previous = frame["ingested_at"].iloc[-1]


def test_duplicates_in_truth_equal_the_definition(fact_frame, truth):
    groups = fact_frame.groupby(KEY + ["event_id", "events"]).size().rename("n").reset_index()
    groups["excess"] = (groups["n"] - 1) * groups["events"]
    groups["extra"] = groups["n"] - 1
    got = groups.groupby(KEY)[["extra", "excess"]].sum()
    want = truth.set_index(KEY)[["duplicate_rows", "duplicate_excess"]]
    joined = want.join(got, how="left").fillna(0)
    assert joined["duplicate_rows"].sum() > 500  # the sample does carry duplicates
    assert (joined["duplicate_rows"] == joined["extra"]).all()
    assert (joined["duplicate_excess"] == joined["excess"]).all()


def test_truth_equals_the_reference_implementation(fact_frame, truth, sample_dir):
    """The generator's injected amounts and the definitions (tests/reference.py, written independently) agree on
    every key: corrections (with the backfilled copies of corrected versions counted as duplicates), late rows and
    the as-of-T parts of the waterfall."""
    fact = fact_frame.assign(date=pd.to_datetime(fact_frame["date"]).dt.date)
    dash = pd.read_parquet(sample_dir / "dashboard.parquet").assign(date=lambda f: pd.to_datetime(f["date"]).dt.date)
    api = pd.read_csv(sample_dir / "api_daily.csv", parse_dates=["date"]).assign(date=lambda f: f["date"].dt.date)
    want = truth.assign(date=pd.to_datetime(truth["date"]).dt.date).set_index(KEY)
    got = reference.quality(fact, dash).set_index(KEY)
    for column in ("duplicate_rows", "duplicate_excess", "superseded_versions", "correction_excess", "late_rows"):
        assert (got[column] == want.loc[got.index, column]).all(), column
    assert got["correction_excess"].sum() > 1000 and want["backfill_excess"].sum() > 1000
    parts = reference.waterfall(fact, dash, api).set_index(KEY)
    pairs = {"duplicates": "dup_asof", "corrections": "correction_asof", "late": "late_component"}
    for component, column in pairs.items():
        assert (parts[component] == want.loc[parts.index, column]).all(), component


def test_backfills_replay_corrected_versions_after_their_correction(fact_frame, truth):
    """The sample carries the fault the latest-version rule exists for: events whose most recently ingested row is
    a backfilled copy of a version corrected before the backfill (a rule of "greatest ingested_at" gets them
    wrong)."""
    fact = fact_frame.assign(date=pd.to_datetime(fact_frame["date"]).dt.date)
    by_rule = reference.latest(fact)
    last_row = fact.sort_values(["event_id", "ingested_at", "events"]).groupby("event_id").tail(1)
    naive = {r.event_id: (r.company_id, r.date, r.events) for r in last_row.itertuples()}
    differ = [e for e in by_rule if by_rule[e] != naive[e]]
    assert len(differ) >= 10


def test_late_rows_in_truth_equal_the_timeline(fact_frame, truth, sample_dir):
    dash = pd.read_parquet(sample_dir / "dashboard.parquet")
    computed = pd.to_datetime(fact_frame["date"]) + pd.Timedelta(days=2, hours=2)
    late = fact_frame[fact_frame["ingested_at"] > computed]
    got = late.groupby(KEY).agg(late_rows=("events", "size"), late_events=("events", "sum"))
    want = truth.set_index(KEY)[["late_rows", "late_events"]]
    joined = want.join(got, rsuffix="_data").fillna(0)
    assert joined["late_rows"].sum() > 1000
    assert (joined["late_rows"] == joined["late_rows_data"]).all()
    assert (joined["late_events"] == joined["late_events_data"]).all()
    # and the dashboard carries that computation time
    assert (
        pd.to_datetime(dash["computed_at"]) == pd.to_datetime(dash["date"]) + pd.Timedelta(days=2, hours=2)
    ).all()


def test_dashboard_is_the_naive_sum_at_its_computation(fact_frame, sample_dir):
    dash = pd.read_parquet(sample_dir / "dashboard.parquet")
    dash["date"] = pd.to_datetime(dash["date"])
    computed = pd.to_datetime(fact_frame["date"]) + pd.Timedelta(days=2, hours=2)
    naive = fact_frame[fact_frame["ingested_at"] <= computed].groupby(KEY)["events"].sum().reset_index()
    joined = dash.merge(naive, on=KEY, how="outer", suffixes=("", "_naive"), indicator=True)
    assert (joined["_merge"] == "both").all()
    assert (joined["events"] == joined["events_naive"]).all()


def test_replayed_loads_in_truth_repeat_an_earlier_load(fact_frame, sample_dir):
    loads = pd.read_parquet(sample_dir / "ground_truth_loads.parquet")
    assert len(loads) >= 5
    first_load = fact_frame.sort_values("ingested_at").groupby("event_id")["load_id"].first()
    for load in loads.itertuples():
        rows = fact_frame[fact_frame["load_id"] == load.load_id]
        assert len(rows) == load.rows and rows["events"].sum() == load.events
        assert (first_load.loc[rows["event_id"]].to_numpy() < load.load_id).all()
        source = fact_frame[fact_frame["load_id"] == load.source_load_id]
        assert set(rows["event_id"]) <= set(source["event_id"]) | set(rows["event_id"])


def test_api_is_the_true_total_and_residual_is_missing_plus_pending_plus_timezone(truth, sample_dir):
    api = pd.read_csv(sample_dir / "api_daily.csv", parse_dates=["date"])
    joined = truth.assign(date=pd.to_datetime(truth["date"])).merge(api, on=KEY, how="outer").fillna(0)
    assert (joined["api_events"] == joined["events"]).all()
    assert (
        joined["residual_component"]
        == -joined["missing_events"] - joined["pending_events"] - joined["tz_shift"]
    ).all()
    assert truth["missing_events"].sum() > 0 and truth["pending_events"].sum() > 0


def test_timezone_companies_bucket_api_days_locally(truth, sample_dir):
    import json

    zones = json.loads((sample_dir / "sample.json").read_text())["tz_companies"]
    shifted = truth[truth["tz_shift"] != 0]["company_id"].unique()
    assert sorted(shifted) == sorted(int(c) for c in zones)
    by_company = truth.groupby("company_id")["tz_shift"].sum()
    # a shift moves events between days; within the range it sums to the events moved across its ends
    assert np.all(by_company.drop(index=[int(c) for c in zones]) == 0)


def test_waterfall_truth_adds_up(truth):
    delta = truth["dashboard_events"] - truth["api_events"]
    parts = (
        truth["dup_asof"] + truth["correction_asof"] + truth["late_component"] + truth["residual_component"]
    )
    assert (delta == parts).all()


@pytest.mark.parametrize("field", ["rows", "companies", "days"])
def test_bad_spec_is_rejected(field, tmp_path):
    from evtools.core.errors import EvtoolsError

    with pytest.raises(EvtoolsError, match=field):
        generate(SampleSpec(**{field: 0}), tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()
