"""Reconciliation: the waterfall adds up for every key, each injected fault lands in its own component with the
injected amount, and hand-built cases give hand-computed answers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evtools.analyses import reconcile
from evtools.analyses.quality import Scope
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from tests.conftest import write_config

KEY = ["company_id", "date"]
D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)


TYPES = {
    "event_id": pa.int64(),
    "company_id": pa.string(),
    "date": pa.date32(),
    "events": pa.int64(),
    "ingested_at": pa.timestamp("us"),
    "computed_at": pa.timestamp("us"),
}


def _write(frame: pd.DataFrame, path) -> None:
    schema = pa.schema([(c, TYPES[c]) for c in frame.columns])
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)


def _config(tmp_path, fact: pd.DataFrame, dash: pd.DataFrame, api: pd.DataFrame, settings: str = ""):
    _write(fact, tmp_path / "fact.parquet")
    _write(dash, tmp_path / "dash.parquet")
    _write(api, tmp_path / "api.parquet")
    path = write_config(
        tmp_path,
        '[sources]\nfact_events = "fact.parquet"\ndashboard = "dash.parquet"\napi_daily = "api.parquet"\n'
        f"[settings]\n{settings}",
    )
    config = load_config(path)
    return config, open_sources(config)


def _fact(rows):
    frame = pd.DataFrame(rows, columns=["event_id", "company_id", "date", "events", "ingested_at"])
    frame["ingested_at"] = pd.to_datetime(frame["ingested_at"], format="ISO8601")
    return frame


def _keys(rows, cols):
    frame = pd.DataFrame(rows, columns=cols)
    if "computed_at" in frame:
        frame["computed_at"] = pd.to_datetime(frame["computed_at"])
    return frame


def _by_key(result) -> dict:
    frame = result.frame()
    frame["date"] = frame["date"].dt.date
    return {(r["company_id"], r["date"]): r for r in frame.to_dict(orient="records")}


def test_sample_waterfall_equals_injected_faults(sample_con, sample_config, truth):
    result = reconcile.reconcile(sample_con, sample_config)
    got = result.frame()
    assert list(got.columns[: len(reconcile.COLUMNS)]) == reconcile.COLUMNS
    got = got.assign(date=got["date"].dt.date).set_index(KEY)
    want = truth.assign(date=pd.to_datetime(truth["date"]).dt.date).set_index(KEY).loc[got.index]
    assert (got["delta"] == want["dashboard_events"] - want["api_events"]).all()
    assert (got["drift"] == 0).all()
    pairs = {
        "duplicates": "dup_asof",
        "corrections": "correction_asof",
        "late": "late_component",
        "residual": "residual_component",
    }
    for component, truth_col in pairs.items():
        assert (got[component] == want[truth_col]).all(), component
        assert (want[truth_col] != 0).sum() > 20, truth_col  # the sample injects this fault
    parts = got[["drift", "duplicates", "corrections", "late", "residual"]].sum(axis=1)
    assert (parts == got["delta"]).all()


def test_sample_keys_without_faults_match(sample_con, sample_config, truth):
    got = reconcile.reconcile(sample_con, sample_config).frame()
    got = got.assign(date=got["date"].dt.date).set_index(KEY)
    t = truth.assign(date=pd.to_datetime(truth["date"]).dt.date).set_index(KEY).loc[got.index]
    clean = (t[["dup_asof", "correction_asof", "late_component", "residual_component"]] == 0).all(axis=1)
    assert clean.sum() > 100
    assert (got.loc[clean, "status"] == "match").all()
    assert (got.loc[clean, "cause"] == "match").all()
    assert (got.loc[~clean, "delta"] != 0).sum() == (
        t.loc[~clean, "dashboard_events"] != t.loc[~clean, "api_events"]
    ).sum()


def test_sample_timezone_names_only_the_right_zones(sample_con, sample_config, sample_dir):
    import json

    zones = {
        int(k): v for k, v in json.loads((sample_dir / "sample.json").read_text())["tz_companies"].items()
    }
    got = reconcile.reconcile(sample_con, sample_config).frame()
    tz = got[got["cause"] == "timezone"]
    assert set(tz["company_id"]) == set(zones)
    assert all(zones[c] == z for c, z in zip(tz["company_id"], tz["tz_zone"], strict=True))


def test_timezone_is_the_cause_when_day_bucketing_is_the_only_fault(tmp_path):
    """A generated set whose only fault is local-day bucketing in the API for 2 companies (no retries, replays,
    corrections, late or missing records). Arrivals take under a day, so only the last date can hold events not yet
    ingested. Every other differing key belongs to a zone company and is explained by its zone."""
    from evtools.analyses.sample import SampleSpec, generate

    spec = SampleSpec(
        rows=20_000,
        companies=5,
        days=20,
        seed=5,
        retry_rate=0,
        replay_rate=0,
        correction_rate=0,
        late_rate=0,
        missing_rate=0,
        tz_companies=2,
    )
    meta = generate(spec, tmp_path / "s", progress=False)
    zones = {int(k): v for k, v in meta["tz_companies"].items()}
    config = load_config(tmp_path / "s" / "evtools.toml")
    got = reconcile.reconcile(open_sources(config), config).frame()
    inner = got[(got["date"] >= "2026-01-01") & (got["date"] < "2026-01-20")]
    differing = inner[inner["delta"] != 0]
    assert len(differing) > 20
    assert set(differing["company_id"]) == set(zones)
    assert (differing["cause"] == "timezone").all()
    assert (differing["tz_zone"] == differing["company_id"].map(zones)).all()
    assert (got.loc[~got["company_id"].isin(zones) & (got["date"] < "2026-01-20"), "status"] == "match").all()


def test_key_only_in_api_and_only_in_dashboard(tmp_path):
    """c1/D1 is only in the API (50 events, none ingested); c1/D2 is only in the dashboard (7, computed at
    D2 + 1 day, from one row of 7 ingested before)."""
    fact = _fact([(1, "c1", D2, 7, "2026-01-02 10:00")])
    dash = _keys([("c1", D2, 7, "2026-01-03 00:00")], ["company_id", "date", "events", "computed_at"])
    api = _keys([("c1", D1, 50)], ["company_id", "date", "events"])
    config, con = _config(tmp_path, fact, dash, api)
    got = _by_key(reconcile.reconcile(con, config))
    only_api, only_dash = got[("c1", D1)], got[("c1", D2)]
    assert only_api["status"] == "missing_in_dashboard"
    assert (only_api["dashboard_events"], only_api["delta"], only_api["residual"]) == (0, -50, -50)
    assert only_api["cause"] == "residual"
    assert only_dash["status"] == "missing_in_api"
    assert (only_dash["api_events"], only_dash["delta"], only_dash["residual"], only_dash["drift"]) == (
        0,
        7,
        7,
        0,
    )


def test_corrected_event_that_moved_to_another_date(tmp_path):
    """Event 1 was 5 on D1 (ingested D1 10:00), then corrected to 6 on D2 (ingested D2 20:00). The dashboard computed
    D1 and D2 at D2 + 1 day, both after the correction; the API has the true 0 on D1 and 6 on D2.
    D1: raw_asof 5, latest_asof 0 (the latest version lies on D2), so corrections = 5, late 0, residual 0.
    D2: raw_asof 6, latest_asof 6: nothing to explain."""
    fact = _fact([(1, "c1", D1, 5, "2026-01-01 10:00"), (1, "c1", D2, 6, "2026-01-02 20:00")])
    dash = _keys(
        [("c1", D1, 5, "2026-01-03 00:00"), ("c1", D2, 6, "2026-01-03 00:00")],
        ["company_id", "date", "events", "computed_at"],
    )
    api = _keys([("c1", D2, 6)], ["company_id", "date", "events"])
    config, con = _config(tmp_path, fact, dash, api)
    got = _by_key(reconcile.reconcile(con, config))
    d1, d2 = got[("c1", D1)], got[("c1", D2)]
    assert [d1[c] for c in reconcile.COMPONENTS] == [0, 0, 5, 0, 0]
    assert (d1["cause"], d1["status"]) == ("corrections", "missing_in_api")
    assert [d2[c] for c in reconcile.COMPONENTS] == [0, 0, 0, 0, 0] and d2["status"] == "match"


def test_correction_that_moved_after_t_is_late(tmp_path):
    """As above, but the dashboard computed D1 at D2 02:00, before the correction arrived: as of T the event was 5
    on D1 (raw_asof 5, latest_asof 5), now its latest version lies on D2 (latest_now 0): late = 5 - 0 = +5."""
    fact = _fact([(1, "c1", D1, 5, "2026-01-01 10:00"), (1, "c1", D2, 6, "2026-01-02 20:00")])
    dash = _keys(
        [("c1", D1, 5, "2026-01-02 02:00"), ("c1", D2, 6, "2026-01-03 00:00")],
        ["company_id", "date", "events", "computed_at"],
    )
    api = _keys([("c1", D2, 6)], ["company_id", "date", "events"])
    config, con = _config(tmp_path, fact, dash, api)
    d1 = _by_key(reconcile.reconcile(con, config))[("c1", D1)]
    assert (d1["raw_asof"], d1["latest_asof"], d1["latest_now"]) == (5, 5, 0)
    assert [d1[c] for c in reconcile.COMPONENTS] == [0, 0, 0, 5, 0]
    assert (d1["cause"], d1["status"]) == ("late", "missing_in_api")


def test_retry_that_arrived_after_t(tmp_path):
    """Event 1 (4 events) ingested at D1 10:00 and again, a retry, at D1 + 1 day 05:00; event 2 (3) arrived late at
    D1 + 1 day 06:00. The dashboard computed D1 at D1 + 1 day 02:00 as 4; the API says 7.
    As of T only the first copy existed: duplicates 0; now latest is 4 + 3 = 7: late = 4 - 7 = -3; residual 0."""
    fact = _fact(
        [
            (1, "c1", D1, 4, "2026-01-01 10:00"),
            (1, "c1", D1, 4, "2026-01-02 05:00"),
            (2, "c1", D1, 3, "2026-01-02 06:00"),
        ]
    )
    dash = _keys([("c1", D1, 4, "2026-01-02 02:00")], ["company_id", "date", "events", "computed_at"])
    api = _keys([("c1", D1, 7)], ["company_id", "date", "events"])
    config, con = _config(tmp_path, fact, dash, api)
    k = _by_key(reconcile.reconcile(con, config))[("c1", D1)]
    assert [k[c] for c in reconcile.COMPONENTS] == [0, 0, 0, -3, 0]
    assert (k["delta"], k["cause"], k["status"]) == (-3, "late", "mismatch")


@pytest.mark.parametrize(
    ("abs_tol", "rel_tol", "status"),
    [(0, 0, "mismatch"), (2, 0, "match"), (1.9, 0, "mismatch"), (0, 0.02, "match"), (0, 0.019, "mismatch")],
)
def test_tolerances(tmp_path, abs_tol, rel_tol, status):
    """Dashboard 102 (a duplicate of 2 inflated it), API 100: delta 2. Matches when 2 <= abs + rel * 100."""
    fact = _fact(
        [
            (1, "c1", D1, 100, "2026-01-01 10:00"),
            (2, "c1", D1, 2, "2026-01-01 11:00"),
            (2, "c1", D1, 2, "2026-01-01 11:00:03"),
        ]
    )
    fact.loc[0, "events"] = 98
    dash = _keys([("c1", D1, 102, "2026-01-02 02:00")], ["company_id", "date", "events", "computed_at"])
    api = _keys([("c1", D1, 100)], ["company_id", "date", "events"])
    config, con = _config(
        tmp_path, fact, dash, api, f"abs_tolerance = {abs_tol}\nrel_tolerance = {rel_tol}\n"
    )
    k = _by_key(reconcile.reconcile(con, config))[("c1", D1)]
    assert (k["delta"], k["duplicates"]) == (2, 2)
    assert k["status"] == status
    assert k["cause"] == ("match" if status == "match" else "duplicates")


def test_drift_when_the_dashboard_was_edited(tmp_path):
    fact = _fact([(1, "c1", D1, 10, "2026-01-01 10:00")])
    dash = _keys([("c1", D1, 13, "2026-01-02 02:00")], ["company_id", "date", "events", "computed_at"])
    api = _keys([("c1", D1, 10)], ["company_id", "date", "events"])
    config, con = _config(tmp_path, fact, dash, api)
    k = _by_key(reconcile.reconcile(con, config))[("c1", D1)]
    assert [k[c] for c in reconcile.COMPONENTS] == [3, 0, 0, 0, 0] and k["cause"] == "drift"


def test_scope_gives_the_same_figures_as_everything(sample_con, sample_config):
    everything = reconcile.reconcile(sample_con, sample_config).frame()
    company = int(everything["company_id"].iloc[0])
    scope = Scope(company=str(company), date_from=dt.date(2026, 1, 10), date_to=dt.date(2026, 1, 20))
    part = reconcile.reconcile(sample_con, sample_config, scope).frame()
    want = everything[
        (everything["company_id"] == company)
        & (everything["date"] >= "2026-01-10")
        & (everything["date"] <= "2026-01-20")
    ].reset_index(drop=True)
    assert len(part) == 11
    pd.testing.assert_frame_equal(part.reset_index(drop=True), want)


def test_explain_gives_the_cause_reconcile_gives(sample_config):
    """explain computes one key over its company's rows only; its figures and its cause are reconcile's, also for
    the keys whose cause depends on the company's whole range (day-bucketing)."""
    con = open_sources(sample_config)
    full = reconcile.reconcile(con, sample_config).frame()
    zone_companies = full.loc[full["cause"] == "timezone", "company_id"].unique()
    picks = pd.concat(
        [
            full[(full["company_id"] == 1006) & (full["date"] == "2026-01-01")],
            full[full["cause"] == "timezone"].head(4),
            full[full["company_id"].isin(zone_companies) & (full["cause"] == "residual")].head(3),
            full[~full["cause"].isin(["timezone", "match"])].drop_duplicates("cause"),
        ]
    )
    assert len(picks) >= 8 and "timezone" in set(picks["cause"])
    for pick in picks.itertuples():
        e = reconcile.explain(con, sample_config, str(pick.company_id), pick.date.date())
        assert e.waterfall["cause"] == pick.cause, (pick.company_id, pick.date)
        assert {k: e.waterfall[k] for k in reconcile.COMPONENTS} == {
            k: getattr(pick, k) for k in reconcile.COMPONENTS
        }


def test_explain_evidence_adds_up_to_the_waterfall(sample_config):
    con = open_sources(sample_config)
    full = reconcile.reconcile(con, sample_config).frame()
    picks = full[(full["duplicates"] != 0) & (full["corrections"] != 0) & (full["late"] != 0)].head(3)
    assert len(picks) == 3
    for pick in picks.itertuples():
        e = reconcile.explain(con, sample_config, str(pick.company_id), pick.date.date())
        assert {k: e.waterfall[k] for k in reconcile.COMPONENTS} == {
            k: getattr(pick, k) for k in reconcile.COMPONENTS
        }
        assert e.evidence("duplicate")["events"].sum() == pick.duplicates
        assert e.evidence("superseded")["events"].sum() == pick.corrections
        assert e.evidence("counted")["events"].sum() == pick.latest_asof
        late = e.evidence("after_t")
        assert len(late) > 0 and (late["lag_past_t"] > pd.Timedelta(0)).all()


def test_explain_unknown_key_is_a_clear_error(sample_config):
    from evtools.core.errors import DataError

    with pytest.raises(DataError, match="company 999 on 2026-01-05: no such key"):
        reconcile.explain(open_sources(sample_config), sample_config, "999", "2026-01-05")


def test_reconcile_and_explain_cli(sample_dir, tmp_path, capsys):
    from evtools.app.cli import main

    config = str(sample_dir / "evtools.toml")
    assert (
        main(
            [
                "reconcile",
                "--config",
                config,
                "--out",
                str(tmp_path / "r"),
                "--from",
                "2026-01-05",
                "--to",
                "2026-01-09",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert " of 150 company-days (" in out  # 30 companies x 5 dates compared
    csv = pd.read_csv(tmp_path / "r" / "reconciliation.csv")
    assert list(csv.columns[:12]) == reconcile.COLUMNS and len(csv) == 150
    assert main(["explain", "1001", "2026-01-02", "--config", config, "--out", str(tmp_path / "e")]) == 0
    assert "company 1001 on 2026-01-02" in capsys.readouterr().out
    assert (tmp_path / "e" / "evidence.csv").is_file()
    assert main(["explain", "1001", "2026-01-02", "--config", str(tmp_path / "none.toml")]) == 2


def test_company_ids_of_different_types_still_join(tmp_path):
    """fact_events stores company ids as text ('7'); the API csv is read as integers (7): the API view takes the
    text type, so the key matches."""
    fact = _fact([(1, "7", D1, 5, "2026-01-01 10:00")])
    dash = _keys([("7", D1, 5, "2026-01-02 02:00")], ["company_id", "date", "events", "computed_at"])
    _write(fact, tmp_path / "fact.parquet")
    _write(dash, tmp_path / "dash.parquet")
    (tmp_path / "api.csv").write_text("company_id,date,events\n7,2026-01-01,5\n")
    config = load_config(
        write_config(
            tmp_path,
            '[sources]\nfact_events = "fact.parquet"\ndashboard = "dash.parquet"\napi_daily = "api.csv"\n',
        )
    )
    k = _by_key(reconcile.reconcile(open_sources(config), config))[("7", D1)]
    assert (k["status"], k["delta"], k["api_events"]) == ("match", 0, 5)


def test_dashboard_without_computation_time_needs_the_setting(tmp_path):
    from evtools.core.errors import DataError

    fact = _fact([(1, "a", D1, 5, "2026-01-01 10:00")])
    dash = _keys([("a", D1, 5)], ["company_id", "date", "events"])
    api = _keys([("a", D1, 5)], ["company_id", "date", "events"])
    config, con = _config(tmp_path, fact, dash, api)
    with pytest.raises(DataError, match="no computed_at column"):
        reconcile.reconcile(con, config)
    config, con = _config(tmp_path, fact, dash, api, "dashboard_computed_offset_hours = 26\n")
    k = _by_key(reconcile.reconcile(con, config))[("a", D1)]
    assert (k["status"], k["raw_asof"]) == ("match", 5)
