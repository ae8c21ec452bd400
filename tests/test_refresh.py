"""The incremental aggregate: equal to the reference (tests/reference.py) after every run, atomic, locked,
idempotent."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
import types

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evtools.analyses import refresh
from evtools.core import fsutil
from evtools.core.config import load_config
from evtools.core.errors import ConcurrentRun, EvtoolsError
from evtools.engines import aggfile, lake
from tests import reference
from tests.conftest import write_config

BASE = dt.datetime(2026, 1, 1)


def _table(config, db) -> pd.DataFrame:
    t = refresh.table(config, db)
    t["date"] = pd.to_datetime(t["date"]).dt.date
    return t[["company_id", "date", "events", "rows"]].reset_index(drop=True)


def _setup(tmp_path, fact: pd.DataFrame):
    schema = pa.schema(
        [
            ("event_id", pa.int64()),
            ("company_id", pa.string()),
            ("date", pa.date32()),
            ("events", pa.int64()),
            ("ingested_at", pa.timestamp("us")),
        ]
    )
    pq.write_table(pa.Table.from_pandas(fact, schema=schema, preserve_index=False), tmp_path / "fact.parquet")
    return load_config(write_config(tmp_path, '[sources]\nfact_events = "fact.parquet"\n'))


row = st.tuples(
    st.integers(1, 8),  # event_id: few ids, so duplicates and corrections are common
    st.sampled_from(["a", "b"]),
    st.integers(0, 4),  # date offset
    st.integers(0, 9),  # events
    st.integers(0, 200),  # ingestion hour: rows arrive days late, corrections any time
)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # examples: conftest
@given(
    rows=st.lists(row, min_size=1, max_size=30), cuts=st.lists(st.integers(0, 210), min_size=1, max_size=6)
)
def test_every_run_equals_a_full_recomputation(tmp_path_factory, rows, cuts):
    tmp = tmp_path_factory.mktemp("replay")
    fact = pd.DataFrame(
        [
            (e, c, (BASE + dt.timedelta(days=d)).date(), v, BASE + dt.timedelta(hours=h))
            for e, c, d, v, h in rows
        ],
        columns=["event_id", "company_id", "date", "events", "ingested_at"],
    )
    config = _setup(tmp, fact)
    db = tmp / "agg.duckdb"
    for cut in sorted(set(cuts)):
        until = BASE + dt.timedelta(hours=cut)
        refresh.refresh(config, db, until=until)
        got, want = _table(config, db), reference.aggregate(fact, until)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert refresh.verify(config, db).empty


@pytest.fixture()
def sample_db(tmp_path, sample_config):
    db = tmp_path / "agg.duckdb"
    refresh.refresh(sample_config, db, until=dt.datetime(2026, 2, 1))
    return db


def _snapshot(config, db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        agg = con.execute("SELECT * FROM agg_company_daily_events ORDER BY ALL").fetchall()
        st_ = con.execute("SELECT strategy, watermark FROM evtools_state").fetchall()
    finally:
        con.close()
    return agg, st_


def test_rerunning_the_same_until_is_a_noop(sample_config, sample_db):
    before = _snapshot(sample_config, sample_db)
    r = refresh.refresh(sample_config, sample_db, until=dt.datetime(2026, 2, 1))
    assert r.mode == "noop" and r.keys_changed == 0
    assert _snapshot(sample_config, sample_db) == before


def test_an_injected_fault_leaves_everything_as_before(sample_config, sample_db, monkeypatch):
    before = _snapshot(sample_config, sample_db)
    for point in ("before_apply", "after_apply"):
        monkeypatch.setenv(refresh.FAULT_ENV, f"raise:{point}")
        with pytest.raises(RuntimeError, match=f"injected fault at {point}"):
            refresh.refresh(sample_config, sample_db, until=dt.datetime(2026, 2, 10))
        assert _snapshot(sample_config, sample_db) == before
    monkeypatch.delenv(refresh.FAULT_ENV)
    r = refresh.refresh(sample_config, sample_db, until=dt.datetime(2026, 2, 10))
    assert r.mode == "incremental" and refresh.verify(sample_config, sample_db).empty
    statuses = refresh.runs(sample_config, sample_db)["status"].tolist()
    assert statuses == ["ok", "failed", "failed", "ok"]


def _refresh_cli(sample_dir, db) -> list[str]:
    """evtools refresh on the sample and ``db``, as a separate process."""
    return [
        sys.executable,
        "-m",
        "evtools.app.cli",
        "refresh",
        "--config",
        str(sample_dir / "evtools.toml"),
        "--db",
        str(db),
    ]


def test_a_killed_refresh_leaves_everything_as_before(sample_config, sample_db, sample_dir):
    before = _snapshot(sample_config, sample_db)
    env = {**os.environ, refresh.FAULT_ENV: "kill:after_apply"}
    cmd = [*_refresh_cli(sample_dir, sample_db), "--until", "2026-02-10"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert proc.returncode == -9
    assert _snapshot(sample_config, sample_db) == before
    env.pop(refresh.FAULT_ENV)
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    assert refresh.verify(sample_config, sample_db).empty


def test_a_second_refresh_fails_clearly_or_waits(sample_config, sample_db, monkeypatch):
    with aggfile.locked(sample_db), pytest.raises(ConcurrentRun, match="another refresh is running"):
        refresh.refresh(sample_config, sample_db, until=dt.datetime(2026, 2, 5))
    acquired, asked = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:  # the waiting refresh found the lock held: it sleeps before trying again
        asked.set()
        time.sleep(seconds)

    monkeypatch.setattr(fsutil, "time", types.SimpleNamespace(monotonic=time.monotonic, sleep=sleep))

    def hold():
        with aggfile.locked(sample_db):
            acquired.set()
            asked.wait(30)  # held until the refresh waits for it

    holder = threading.Thread(target=hold)
    holder.start()
    assert acquired.wait(10)  # the holder has the lock before the refresh asks for it
    r = refresh.refresh(sample_config, sample_db, until=dt.datetime(2026, 2, 5), wait=10)
    holder.join()
    assert asked.is_set()  # the refresh waited for the lock
    assert r.mode == "incremental" and refresh.verify(sample_config, sample_db).empty


def test_concurrent_processes_do_not_corrupt(sample_config, sample_db, sample_dir):
    base = [*_refresh_cli(sample_dir, sample_db), "--wait", "60"]
    procs = [
        subprocess.Popen([*base, "--until", u], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for u in ("2026-02-12", "2026-02-20")
    ]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0, 0] or sorted(codes) == [
        0,
        2,
    ]  # the earlier until may come second: refused, nothing written
    assert refresh.verify(sample_config, sample_db).empty


def test_until_before_the_watermark_is_refused(sample_config, sample_db):
    with pytest.raises(EvtoolsError, match="before the watermark"):
        refresh.refresh(sample_config, sample_db, until=dt.datetime(2026, 1, 15))


def test_lookback_strategy_misses_what_arrives_late(sample_config, tmp_path, truth):
    exact, fixed = tmp_path / "exact.duckdb", tmp_path / "fixed.duckdb"
    for db, strategy in ((exact, "touched"), (fixed, "lookback")):
        refresh.refresh(sample_config, db, until=dt.datetime(2026, 1, 20), strategy=strategy)
    missed = 0
    for day in range(21, 32):
        until = dt.datetime(2026, 1, day)
        refresh.refresh(sample_config, exact, until=until)
        r = refresh.refresh(sample_config, fixed, until=until, strategy="lookback", lookback_days=2)
        missed += r.missed_by_lookback_events
    assert refresh.verify(sample_config, exact).empty
    diff = refresh.verify(sample_config, fixed)
    assert len(diff) > 0 and missed > 0
    gap = (diff["full_events"].fillna(0) - diff["table_events"].fillna(0)).sum()
    assert gap > 0  # the fixed window under-counts: late rows for older dates never reach it


def test_backfill_rebuilds_the_dates_from_the_state(sample_config, sample_db):
    con = duckdb.connect(str(sample_db))
    con.execute("UPDATE agg_company_daily_events SET events = events + 1 WHERE date = DATE '2026-01-10'")
    con.close()
    assert len(refresh.verify(sample_config, sample_db)) == 30
    r = refresh.refresh(sample_config, sample_db, backfill=(dt.date(2026, 1, 10), dt.date(2026, 1, 10)))
    assert r.mode == "backfill" and r.dates_recomputed == 1
    assert refresh.verify(sample_config, sample_db).empty


def test_refresh_cli_verify_exit_codes(sample_dir, tmp_path, capsys):
    from evtools.app.cli import main

    config = str(sample_dir / "evtools.toml")
    db = tmp_path / "agg.duckdb"
    assert main(["refresh", "--config", config, "--db", str(db), "--verify"]) == 2  # not built yet
    assert main(["refresh", "--config", config, "--db", str(db)]) == 0
    assert main(["refresh", "--config", config, "--db", str(db), "--verify"]) == 0
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM agg_company_daily_events WHERE date = DATE '2026-01-05' AND company_id = 1001")
    con.close()
    assert main(["refresh", "--config", config, "--db", str(db), "--verify"]) == 1
    assert "differs from a full recomputation on 1 keys" in capsys.readouterr().err


def test_lookup_ranges_split_at_the_widest_gaps():
    """Touched ids 1, 2, 3, 50, 51, 1000, 1001, 5000, 9000, 9001, 20000, 30000: the gaps, widest first, are 10999,
    10000, 4000, 3999, 949, 47, then the ties of 1 (the first, 1 -> 2, wins); so 8 ranges, each id in one."""
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE _touched AS SELECT unnest([1, 2, 3, 50, 51, 1000, 1001, 5000, 9000, 9001, 20000, 30000])"
        " AS event_id"
    )
    got = lake.lookup_ranges(con)
    assert [(got[f"lo{i}"], got[f"hi{i}"]) for i in range(1, 9)] == [
        (1, 1),
        (2, 3),
        (50, 51),
        (1000, 1001),
        (5000, 5000),
        (9000, 9001),
        (20000, 20000),
        (30000, 30000),
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _touched AS SELECT unnest(['b7', 'a1', 'c0']) AS event_id")
    got = lake.lookup_ranges(con)
    assert (got["lo1"], got["hi1"], got["lo2"]) == ("a1", "c0", None)


def test_daily_runs_on_time_ordered_ids_equal_the_reference(tmp_path):
    """A sample whose event ids increase with time (the lookup's ranges are then narrow), refreshed at every
    midnight of its last 12 days, equals the reference after each run."""
    from evtools.analyses.sample import SampleSpec, generate

    generate(
        SampleSpec(rows=20_000, companies=8, days=20, seed=3, ordered_ids=True),
        tmp_path / "s",
        progress=False,
    )
    config = load_config(tmp_path / "s" / "evtools.toml")
    fact = pd.read_parquet(tmp_path / "s" / "fact_events")
    fact["date"] = pd.to_datetime(fact["date"]).dt.date
    db = tmp_path / "agg.duckdb"
    history = reference.history(fact)  # built once for the 12 runs
    for day in range(10, 22):
        until = dt.datetime(2026, 1, 1) + dt.timedelta(days=day)
        run = refresh.refresh(config, db, until=until)
        got = _table(config, db)
        want = reference.aggregate(history, pd.Timestamp(until))
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert run.mode == "incremental" and run.rows_read > 0


def _write(tmp_path, fact: pd.DataFrame, fmt: str, extra: dict | None = None):
    """``fact`` (and ``extra`` columns) as fact.<fmt>, and its config."""
    frame = fact.assign(**(extra or {}))
    if fmt == "csv":
        frame.to_csv(tmp_path / "fact.csv", index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "fact.parquet")
    return load_config(write_config(tmp_path, f'[sources]\nfact_events = "fact.{fmt}"\n'))


@pytest.mark.parametrize(
    "fmt, extra",
    [("parquet", None), ("csv", None), ("parquet", {"file_row_number": 0}), ("parquet", {"FILE_INDEX": 0})],
    ids=[
        "parquet: located lookup",
        "csv: one-pass lookup",
        "parquet with a column named as a place: one-pass",
        "the same in capitals",
    ],
)
def test_a_row_ingested_at_the_watermark_is_superseded_by_the_next_run(tmp_path, fmt, extra):
    """The row ingested at the watermark itself is part of the history the next run looks up: its correction in the
    next run replaces it (looked up with ingested_at < watermark, it would be counted besides its correction)."""
    at = BASE + dt.timedelta(hours=10)
    fact = pd.DataFrame(
        [
            (1, "a", BASE.date(), 5, at),
            (2, "a", BASE.date(), 3, BASE + dt.timedelta(hours=1)),
            (1, "a", BASE.date(), 7, at + dt.timedelta(hours=1)),
            (3, "b", BASE.date(), 4, at + dt.timedelta(hours=1)),
        ],
        columns=["event_id", "company_id", "date", "events", "ingested_at"],
    )
    config = _write(tmp_path, fact, fmt, extra)
    db = tmp_path / "agg.duckdb"
    assert refresh.refresh(config, db, until=at).watermark_after == at
    second = refresh.refresh(config, db, until=at + dt.timedelta(hours=2))
    assert second.mode == "incremental"
    got = _table(config, db)
    assert got.to_dict("records") == [
        {"company_id": "a", "date": BASE.date(), "events": 10, "rows": 2},
        {"company_id": "b", "date": BASE.date(), "events": 4, "rows": 1},
    ]
    from evtools.engines import pipeline
    from evtools.engines.sources import open_sources

    con = open_sources(config, names=("fact_events",))
    located = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = $n", {"n": pipeline.LOCATED}
    ).fetchone()[0]
    assert located == (fmt == "parquet" and extra is None)


def test_a_file_rewritten_between_the_lookups_halves_fails_the_run(tmp_path):
    """fact_events' file rewritten with its rows in another order after the ids were located: the rows read at those
    places are others; the run exits 3 with one line saying so, and the aggregate stays as it was."""
    fact = pd.DataFrame(
        [(i, "a", BASE.date(), 1, BASE + dt.timedelta(hours=1)) for i in range(1, 200)]
        + [(i, "a", BASE.date(), 2, BASE + dt.timedelta(hours=3)) for i in range(1, 200, 7)],
        columns=["event_id", "company_id", "date", "events", "ingested_at"],
    )
    config = _write(tmp_path, fact, "parquet")
    db = tmp_path / "agg.duckdb"
    refresh.refresh(config, db, until=BASE + dt.timedelta(hours=2))
    before = _table(config, db)
    hold = tmp_path / "hold"
    hold.touch()
    run = subprocess.Popen(
        [sys.executable, "-m", "evtools", "refresh", "--config", str(tmp_path / "evtools.toml"), "--db", str(db)]
        + ["--until", str(BASE + dt.timedelta(hours=4))],
        env={**os.environ, refresh.FAULT_ENV: "hold:after_locate", "EVTOOLS_REFRESH_HOLD": str(hold)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reached = tmp_path / "hold.reached"
    for _ in range(600):
        if reached.exists() or run.poll() is not None:
            break
        threading.Event().wait(0.1)
    assert reached.exists(), run.communicate()
    pq.write_table(pa.Table.from_pandas(fact.iloc[::-1], preserve_index=False), tmp_path / "fact.parquet")
    hold.unlink()
    _, err = run.communicate(timeout=120)
    assert run.returncode == 3, err
    assert err.count("\n") == 1 and "fact_events changed during the refresh" in err, err
    pd.testing.assert_frame_equal(_table(config, db), before)
