"""Quality figures: exact against the generator's ground truth, and against a hand-built table.

The hand-built table (``HAND``) has 13 rows of company 'c1' on 2026-01-01 (D1) and 2026-01-02 (D2); the dashboard
computed D1 at 2026-01-03 02:00 and D2 at 2026-01-04 02:00.

    row  event  date  events  ingested_at        load  what it is
    1    e1     D1    5       01-01 10:00:00     L1    original
    2    e1     D1    5       01-01 10:00:05     L1    retry duplicate of row 1
    3    e2     D1    3       01-01 11:00        L1    original
    4    e2     D1    4       01-02 09:00        L2    correction of e2 (3 -> 4)
    5    e3     D1    2       01-01 12:00        L1    original
    6    e3     D2    6       01-02 12:00        L2    correction moving e3 to D2 (2 -> 6)
    7    e4     D2    1       01-02 08:00        L2    original
    8    e5     D1    7       01-05 00:00        L3    late arrival (after D1's computation, lag 4 days)
    9-11 e1,e2,e3 D1 5,3,2    01-01 23:00        L4    replay of L1's three originals
    12   e6     D2    2       01-02 13:00        L2    original
    13   e2     D1    3       01-02 23:00        L5    a backfill re-delivering e2's superseded version after its
                                                       correction: a duplicate, not a new version

Hand-computed: D1 has 10 rows summing to 39; versions (e1,5) x3, (e2,3) x3, (e3,2) x2 give duplicate_rows 5 and
duplicate_excess 10 + 6 + 2 = 18; latest versions on D1 are e1=5, e2=4 (first arrived 01-02 09:00, after the
first arrival of 3; row 13 is newer but repeats 3), e5=7 (e3's latest lies on D2), so latest = 16,
correction_excess = 39 - 16 - 18 = 5 (e2's 3 and e3's 2, superseded_versions 2); SELECT DISTINCT sums to 21, 5 over
the latest; one late row of 7 events, max lag 4. D2: 3 rows, 9 events, nothing wrong.
L4 is a replayed load (3 of 3 rows repeat, adding 10 events), and so is L5 (1 of 1, adding 3); L2 repeats 2 of 4
rows, not most. Lags over all 48 events: lag 0 = 34, lag 1 = 7, lag 4 = 7: coverage 34/48, 41/48, 1.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from evtools.analyses import quality
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from tests.conftest import write_config

KEY = ["company_id", "date"]
D1, D2 = "2026-01-01", "2026-01-02"
HAND = [
    ("e1", D1, 5, "2026-01-01 10:00:00", "L1"),
    ("e1", D1, 5, "2026-01-01 10:00:05", "L1"),
    ("e2", D1, 3, "2026-01-01 11:00:00", "L1"),
    ("e2", D1, 4, "2026-01-02 09:00:00", "L2"),
    ("e3", D1, 2, "2026-01-01 12:00:00", "L1"),
    ("e3", D2, 6, "2026-01-02 12:00:00", "L2"),
    ("e4", D2, 1, "2026-01-02 08:00:00", "L2"),
    ("e5", D1, 7, "2026-01-05 00:00:00", "L3"),
    ("e1", D1, 5, "2026-01-01 23:00:00", "L4"),
    ("e2", D1, 3, "2026-01-01 23:00:00", "L4"),
    ("e3", D1, 2, "2026-01-01 23:00:00", "L4"),
    ("e6", D2, 2, "2026-01-02 13:00:00", "L2"),
    ("e2", D1, 3, "2026-01-02 23:00:00", "L5"),
]


@pytest.fixture()
def hand(tmp_path):
    fact = pd.DataFrame(HAND, columns=["event_id", "date", "events", "ingested_at", "load_id"])
    fact.insert(1, "company_id", "c1")
    fact["date"] = pd.to_datetime(fact["date"]).dt.date
    fact["ingested_at"] = pd.to_datetime(fact["ingested_at"])
    fact.to_parquet(tmp_path / "fact.parquet")
    dash = pd.DataFrame(
        {
            "company_id": ["c1", "c1"],
            "date": [dt.date(2026, 1, 1), dt.date(2026, 1, 2)],
            "events": [0, 0],
            "computed_at": pd.to_datetime(["2026-01-03 02:00", "2026-01-04 02:00"]),
        }
    )
    dash.to_parquet(tmp_path / "dash.parquet")
    path = write_config(
        tmp_path,
        '[sources]\nfact_events = "fact.parquet"\ndashboard = "dash.parquet"\n'
        "[settings]\ncoverage_target = 0.8\n",
    )
    config = load_config(path)
    return config, open_sources(config)


def test_hand_built_table_by_key(hand):
    config, con = hand
    result = quality.analyse(con, config)
    frame = result.frame()
    got = frame.set_index(frame["date"].dt.strftime("%Y-%m-%d"))
    d1, d2 = got.loc[D1], got.loc[D2]
    assert (d1["rows"], d1["total_events"]) == (10, 39)
    assert (d1["duplicate_rows"], d1["duplicate_excess"]) == (5, 18)
    assert (d1["latest_events"], d1["correction_excess"], d1["superseded_versions"]) == (16, 5, 2)
    assert d1["distinct_events"] == 21
    assert (d1["late_rows"], d1["late_events"], d1["max_lag_days"]) == (1, 7, 4)
    assert (d2["rows"], d2["total_events"], d2["latest_events"]) == (3, 9, 9)
    assert (d2["duplicate_excess"], d2["correction_excess"], d2["late_rows"], d2["max_lag_days"]) == (
        0,
        0,
        0,
        0,
    )
    assert got["company_id"].tolist() == ["c1", "c1"]  # string ids stay strings


def test_hand_built_table_replays_and_lag(hand):
    config, con = hand
    result = quality.analyse(con, config)
    loads = result.replayed_loads
    assert loads["load_id"].tolist() == ["L4", "L5"]
    columns = ["rows", "repeated_rows", "share_repeated", "events_added", "source_load_id"]
    assert loads.iloc[0][columns].tolist() == [3, 3, 1.0, 10, "L1"]
    assert loads.iloc[1][columns].tolist() == [1, 1, 1.0, 3, "L1"]
    lag = result.arrival_lag.set_index("k")
    assert lag["events"].to_dict() == {0: 34, 1: 7, 4: 7}
    assert lag["coverage"].round(6).to_dict() == {0: round(34 / 48, 6), 1: round(41 / 48, 6), 4: 1.0}
    s = result.summary
    assert s["recommended_lookback_days"] == 1  # coverage_target 0.8: 41/48 = 0.854 >= 0.8 > 34/48
    assert (s["configured_lookback_missed_rows"], s["configured_lookback_missed_events"]) == (1, 7)
    assert s["replayed_loads"] == 2 and s["replayed_events"] == 13


def test_hand_built_distinct_flaw_example(hand):
    config, con = hand
    rows = quality.distinct_flaw_example(con, config)
    # e2 (4 rows) and e3 (3 rows) are both corrected and duplicated; e2 has more rows
    assert set(rows["event_id"]) == {"e2"}
    assert rows["events"].tolist() == [3, 3, 4, 3]
    assert rows["kept_by_distinct"].tolist() == [True, False, True, False]
    assert rows["is_latest_version"].tolist() == [False, False, True, False]


def test_distinct_keeps_exactly_the_correction_excess(hand, tmp_path):
    """The DISTINCT fix run for real on the hand-built table: it sums to the total less the duplicate excess, so it
    over-counts the latest versions by exactly the correction excess (5 on D1, 0 on D2)."""
    config, con = hand
    distinct = duckdb.sql(
        "SELECT CAST(date AS VARCHAR) AS date, sum(events) AS events FROM (SELECT DISTINCT company_id, date, "
        f"event_id, events FROM read_parquet('{tmp_path / 'fact.parquet'}')) GROUP BY date ORDER BY date"
    ).fetchall()
    assert distinct == [(D1, 21), (D2, 9)]
    frame = quality.analyse(con, config).frame()
    assert frame["distinct_events"].tolist() == [21, 9]
    assert (frame["distinct_events"] - frame["latest_events"]).tolist() == frame["correction_excess"].tolist()
    assert frame["correction_excess"].tolist() == [5, 0]


def _two_rows(folder, event_ids: list, events: list, ingested: list):
    """A fact_events of two rows of company c1 on 2026-01-01 (no load_id), alone in its config."""
    fact = pd.DataFrame(
        {
            "event_id": event_ids,
            "company_id": ["c1", "c1"],
            "date": [dt.date(2026, 1, 1)] * 2,
            "events": events,
            "ingested_at": pd.to_datetime(ingested),
        }
    )
    fact.to_parquet(folder / "fact.parquet")
    return load_config(write_config(folder, '[sources]\nfact_events = "fact.parquet"\n'))


def test_late_rows_are_unknown_without_a_computation_time(tmp_path):
    """Without a dashboard and without dashboard_computed_offset_hours nothing says when a key was computed: the
    late figures are unknown (None, with the reason), not 0. With the offset they are counted."""
    config = _two_rows(tmp_path, [1, 2], [3, 4], ["2026-01-01 10:00", "2026-01-04 10:00"])
    result = quality.analyse(open_sources(config), config)
    assert result.frame()["late_rows"].isna().all()
    s = result.summary
    assert s["late_rows"] is None and s["late_events"] is None
    assert "no key has a dashboard computation time" in s["late_unknown_reason"]
    config = load_config(
        write_config(
            tmp_path,
            '[sources]\nfact_events = "fact.parquet"\n[settings]\ndashboard_computed_offset_hours = 26\n',
        )
    )
    s = quality.analyse(open_sources(config), config).summary
    assert (s["late_rows"], s["late_events"], s["late_unknown_reason"]) == (1, 4, None)


def test_replays_are_not_measured_without_load_id(tmp_path):
    config = _two_rows(tmp_path, [1, 1], [3, 3], ["2026-01-01 10:00", "2026-01-02 10:00"])
    s = quality.analyse(open_sources(config), config).summary
    assert s["replays_measured"] is False and s["replayed_loads"] is None and s["duplicate_excess"] == 3


def test_sample_by_key_equals_ground_truth(sample_con, sample_config, truth):
    result = quality.analyse(sample_con, sample_config)
    got = result.frame().assign(date=lambda f: f["date"].dt.date).set_index(KEY)
    want = truth.assign(date=pd.to_datetime(truth["date"]).dt.date).set_index(KEY)
    want = want[want["rows"] > 0]
    assert got.index.sort_values().equals(want.index.sort_values())
    want = want.loc[got.index]
    for col in [
        "rows",
        "duplicate_rows",
        "duplicate_excess",
        "correction_excess",
        "superseded_versions",
        "late_rows",
        "late_events",
    ]:
        assert (got[col] == want[col]).all(), col
        assert want[col].sum() > 0, col  # the sample does inject this fault
    truth_latest = want["rows"] * 0 + (
        got["total_events"] - want["duplicate_excess"] - want["correction_excess"]
    )
    assert (got["latest_events"] == truth_latest).all()


def test_sample_replayed_loads_equal_ground_truth(sample_con, sample_config, sample_dir):
    result = quality.analyse(sample_con, sample_config)
    want = pd.read_parquet(sample_dir / "ground_truth_loads.parquet").sort_values("load_id")
    got = result.replayed_loads.sort_values("load_id")
    assert len(want) >= 5
    assert got["load_id"].tolist() == want["load_id"].tolist()
    assert got["repeated_rows"].tolist() == want["rows"].tolist() == got["rows"].tolist()
    assert got["events_added"].tolist() == want["events"].tolist()
    assert got["source_load_id"].tolist() == want["source_load_id"].tolist()


def test_sample_lag_coverage_and_lookback(sample_con, sample_config, fact_frame):
    result = quality.analyse(sample_con, sample_config)
    lag = (
        pd.to_datetime(fact_frame["ingested_at"]).dt.normalize() - pd.to_datetime(fact_frame["date"])
    ).dt.days
    events = fact_frame["events"]
    target = sample_config.settings.coverage_target
    k = 0
    while events[lag <= k].sum() / events.sum() < target:
        k += 1
    assert result.summary["recommended_lookback_days"] == k
    assert k > sample_config.settings.lookback_days  # a 2-day window is not enough on this sample
    assert result.summary["configured_lookback_missed_events"] == int(events[lag > 2].sum())
    assert result.summary["max_lag_days"] == int(lag.max())


def test_quality_cli_writes_the_four_files(sample_dir, tmp_path, capsys):
    from evtools.app.cli import main

    out = tmp_path / "q"
    assert main(["quality", "--config", str(sample_dir / "evtools.toml"), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "arrival_lag.parquet",
        "quality_by_company_date.parquet",
        "replayed_loads.parquet",
        "summary.json",
    ]
    by_key = duckdb.connect().execute(
        "SELECT * FROM read_parquet($p) LIMIT 0", {"p": str(out / "quality_by_company_date.parquet")}
    )
    cols = [d[0] for d in by_key.description]
    assert cols[: len(quality.BY_KEY_COLUMNS)] == quality.BY_KEY_COLUMNS
    assert dict((d[0], d[1]) for d in by_key.description)["date"] == "DATE"
    summary = json.loads((out / "summary.json").read_text())
    assert f"takes {summary['recommended_lookback_days']} days" in capsys.readouterr().out  # the recommendation


@pytest.mark.parametrize(
    ("b_computed", "offset", "want_c"),
    [
        # b computed at another time than a on the same date: T per key; c (no dashboard row) has no T ...
        ("2026-01-04 00:00", None, None),
        # ... unless the offset setting gives one: D1 + 36 h = 01-02 12:00, so c's row at 01-03 10:00 is late
        ("2026-01-04 00:00", 36, (1, 16)),
        # a and b computed together: c takes that run's time as its T
        ("2026-01-02 12:00", None, (1, 16)),
    ],
)
def test_computation_time_per_key_per_date_and_offset(tmp_path, b_computed, offset, want_c):
    """Companies a, b, c on 2026-01-01, rows ingested 01-02 10:00 and 01-03 10:00 (c only the second):
    a's dashboard row was computed 01-02 12:00, so a has 1 late row of 2 events; b's at ``b_computed``."""
    fact = pd.DataFrame(
        {
            "event_id": [1, 2, 3, 4, 5],
            "company_id": ["a", "a", "b", "b", "c"],
            "date": [dt.date(2026, 1, 1)] * 5,
            "events": [1, 2, 4, 8, 16],
            "ingested_at": pd.to_datetime(
                ["2026-01-02 10:00", "2026-01-03 10:00"] * 2 + ["2026-01-03 10:00"]
            ),
        }
    )
    fact.to_parquet(tmp_path / "fact.parquet")
    pd.DataFrame(
        {
            "company_id": ["a", "b"],
            "date": [dt.date(2026, 1, 1)] * 2,
            "events": [1, 4],
            "computed_at": pd.to_datetime(["2026-01-02 12:00", b_computed]),
        }
    ).to_parquet(tmp_path / "dash.parquet")
    settings = f"[settings]\ndashboard_computed_offset_hours = {offset}\n" if offset is not None else ""
    config = load_config(
        write_config(
            tmp_path, f'[sources]\nfact_events = "fact.parquet"\ndashboard = "dash.parquet"\n{settings}'
        )
    )
    got = quality.analyse(open_sources(config), config).frame().set_index("company_id")
    assert (got.loc["a", "late_rows"], got.loc["a", "late_events"]) == (1, 2)
    b_late = 0 if b_computed.startswith("2026-01-04") else 1
    assert got.loc["b", "late_rows"] == b_late
    if want_c is None:
        assert pd.isna(got.loc["c", "late_rows"])
    else:
        assert (got.loc["c", "late_rows"], got.loc["c", "late_events"]) == want_c
