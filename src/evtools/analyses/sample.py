"""A generator of realistic faulty event data whose faults are known exactly.

It simulates an ingestion timeline, vectorised in numpy:

- each event (event_id, company_id, event_ts, events) arrives ``lag`` after it happened: most within hours, a share
  ``late_rate`` with a heavy-tailed lag of days to weeks (capped at ``max_lag_days``);
- rows are ingested in hourly loads (``load_id``);
- ``retry_rate`` of rows are ingested twice, 1-30 s apart, in the same load (retry duplicates);
- ``replay_rate`` of loads are re-ingested whole 1-74 h later under a new load_id (batch replays);
- ``correction_rate`` of events get a new version with another ``events`` value, appended later (after any replay
  of the original's load); ``move_share`` of those also move the event to the next or previous day, and
  ``delete_share`` of them set it to 0 events (a deletion);
- ``backfill_rate`` of loads are re-ingested whole 3-10 days later under a new load_id (a backfill re-running old
  loads), whatever happened since: copies of versions that were corrected in between arrive after their correction;
- ``missing_rate`` of events never reach the warehouse (they are in the API only), and events that would arrive
  after the snapshot are pending (API only as well);
- ``tz_companies`` companies have an API that buckets days by the company's local zone; ``fact_events.date`` is
  always the UTC date of ``event_ts``;
- event ids are random with respect to time (as UUIDv4 or hashes), or, with ``ordered_ids``, increase with the time
  the event happened (as sequences, snowflake ids, ULID or UUIDv7).

The legacy dashboard job ran every day at 02:00 UTC and recomputed the last 2 complete dates as a naive SUM over
what had been ingested, so date ``d`` was last computed at ``d + 2 days 02:00``. The snapshot is the last run.

Outputs in ``out``: ``fact_events/`` (parquet, one file per ingestion day, rows in ingestion order), ``api_daily.csv``,
``dashboard.parquet``, ``evtools.toml``, ``ground_truth.parquet`` (per company/date, the injected amounts by fault
kind, see ``TRUTH_COLUMNS``) and ``ground_truth_loads.parquet`` (the replayed loads).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from evtools.core.errors import EvtoolsError
from evtools.core.fsutil import atomic_dir
from evtools.engines.queries import execute, first_row, load_sql

log = logging.getLogger(__name__)

DAY = 86_400
HOUR = 3_600
KIND_ORIGINAL, KIND_CORRECTION, KIND_RETRY, KIND_REPLAY, KIND_BACKFILL = 0, 1, 2, 3, 4
STREAMS = 3  # loads per start second: regular (0), replay (1), backfill (2)
TZ_ZONES = ("America/New_York", "Asia/Tokyo", "Europe/Berlin", "Australia/Sydney")

TRUTH_COLUMNS = {
    "rows": "rows in fact_events",
    "retry_rows": "retry copies (same event_id and events, seconds apart)",
    "retry_excess": "events the retry copies add",
    "replay_rows": "copies from replayed loads",
    "replay_excess": "events the replay copies add",
    "backfill_rows": "copies from backfilled loads (some of versions corrected before the backfill)",
    "backfill_excess": "events the backfill copies add",
    "duplicate_rows": "retry_rows + replay_rows + backfill_rows",
    "duplicate_excess": "retry_excess + replay_excess + backfill_excess",
    "superseded_versions": "corrected events whose superseded version lies on this key",
    "correction_excess": "events of those superseded versions",
    "late_rows": "rows ingested after the dashboard computed this key (date + 2 days 02:00)",
    "late_events": "events of those rows",
    "missing_rows": "events never ingested (API only)",
    "missing_events": "their events",
    "pending_rows": "events that arrive after the snapshot (API only)",
    "pending_events": "their events",
    "true_events": "final events of every event whose final version's UTC date is this key",
    "api_events": "what the API reports for this key (local-day bucketing for tz companies)",
    "dashboard_events": "what the legacy job computed for this key",
    "dup_asof": "duplicate excess among rows ingested by the dashboard's computation",
    "correction_asof": "superseded events on this key whose correction was ingested by then",
    "late_component": "latest versions as of the computation minus latest versions now",
    "residual_component": "latest versions now minus the API",
    "tz_shift": "api_events minus true_events (day-boundary bucketing)",
}


@dataclass(frozen=True)
class SampleSpec:
    rows: int = 100_000  # events generated; fact_events holds about rows * (1 + fault rates)
    companies: int = 30
    days: int = 60
    start: dt.date = dt.date(2026, 1, 1)
    seed: int = 7
    retry_rate: float = 0.01
    replay_rate: float = 0.01
    correction_rate: float = 0.005
    move_share: float = 0.2
    delete_share: float = 0.1
    backfill_rate: float = 0.01
    late_rate: float = 0.03
    max_lag_days: int = 45
    missing_rate: float = 0.002
    tz_companies: int = 2
    ordered_ids: bool = False  # event ids in the order the events happened (sequences, snowflake ids, UUIDv7)

    def check(self) -> None:
        for name in ("rows", "companies", "days"):
            if getattr(self, name) < 1:
                raise EvtoolsError(
                    f"sample --{name}: expected a positive integer, found {getattr(self, name)}"
                )
        for name in (
            "retry_rate",
            "replay_rate",
            "correction_rate",
            "move_share",
            "delete_share",
            "backfill_rate",
            "late_rate",
            "missing_rate",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise EvtoolsError(
                    f"sample --{name.replace('_', '-')}: expected a share in [0, 1], found {value}"
                )
        if not 0 <= self.tz_companies <= min(self.companies, len(TZ_ZONES)):
            raise EvtoolsError(
                f"sample --tz-companies: expected 0..{min(self.companies, len(TZ_ZONES))}, found {self.tz_companies}"
            )

    @property
    def start_day(self) -> int:
        return (self.start - dt.date(1970, 1, 1)).days

    @property
    def snapshot(self) -> int:
        """Epoch seconds of the last dashboard run: (last date + 2 days) 02:00 UTC."""
        return (self.start_day + self.days + 1) * DAY + 2 * HOUR


def generate(spec: SampleSpec, out: Path, progress: bool = True) -> dict:
    """Generate a sample into ``out`` (written whole or not at all); return its metadata."""
    spec.check()
    steps = tqdm(total=6, desc="sample", disable=not progress, unit="step")
    rng = np.random.default_rng(spec.seed)
    events, tz = _events(spec, rng)
    steps.update()
    rows, replays = _rows(spec, rng, events)
    steps.update()
    with atomic_dir(Path(out)) as tmp:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.register("ev", pa.table(events))
        con.register("r", pa.table(rows))
        con.register("tzc", pa.table({"company_id": tz[0], "zone": tz[1]}))
        _write_fact_events(con, tmp / "fact_events", spec)
        steps.update()
        _write_api_and_dashboard(con, tmp, spec)
        steps.update()
        _write_truth(con, tmp, spec, replays)
        steps.update()
        meta = _write_meta(con, tmp, spec, tz)
        con.close()
        steps.update()
    steps.close()
    return meta


def _events(spec: SampleSpec, rng: np.random.Generator) -> tuple[dict, tuple]:
    """One row per logical event, with its arrival, fate (0 present, 1 missing, 2 pending) and any correction."""
    n = spec.rows
    weights = 1.0 / np.arange(1, spec.companies + 1) ** 0.8
    company = rng.choice(spec.companies, size=n, p=weights / weights.sum()).astype(np.int64) + 1001
    day = rng.integers(0, spec.days, size=n)
    ts = (spec.start_day + day) * DAY + rng.integers(0, DAY, size=n)
    value = rng.geometric(0.2, size=n).astype(np.int64)
    late = rng.random(n) < spec.late_rate
    lag_days = np.minimum(1.0 + rng.pareto(1.2, size=n) * 3.0, spec.max_lag_days)
    lag = np.where(late, lag_days * DAY, np.minimum(rng.exponential(3 * HOUR, size=n), 20 * HOUR))
    arrive = ts + lag.astype(np.int64)
    # tz companies: mid-sized ones, so their days have enough events to show the shift
    tz_ids = (np.arange(spec.tz_companies) * 3 + 2).clip(max=spec.companies - 1) + 1001
    tz_ids = np.unique(tz_ids)
    tz_zones = np.array(TZ_ZONES[: len(tz_ids)], dtype=str)
    fate = np.where(arrive > spec.snapshot, 2, 0)
    missing = (rng.random(n) < spec.missing_rate) & ~np.isin(company, tz_ids)
    fate = np.where(missing & (fate == 0), 1, fate)
    ids = np.arange(1, n + 1, dtype=np.int64) * 7 + 100_000_000
    if spec.ordered_ids:  # the k-th event to happen gets the k-th id
        ranked = np.empty(n, dtype=np.int64)
        ranked[np.argsort(ts, kind="stable")] = ids
        ids = ranked
    events = {
        "event_id": ids,
        "company_id": company,
        "ts": ts,
        "value": value,
        "arrive": arrive,
        "fate": fate.astype(np.int8),
    }
    return events, (tz_ids, tz_zones)


def _rows(spec: SampleSpec, rng: np.random.Generator, ev: dict) -> tuple[dict, dict]:
    """Every row fact_events receives, labelled with its kind; corrections are written back into ``ev``."""
    n = len(ev["event_id"])
    present = ev["fate"] == 0
    hour = ev["arrive"] // HOUR
    # replays: choose loads (hours holding present rows), each re-ingested once 1-74 h after it closed
    hours = np.unique(hour[present])
    chosen = hours[rng.random(hours.size) < spec.replay_rate]
    replay_at = (chosen + 2) * HOUR + rng.integers(0, 72 * HOUR, size=chosen.size)
    keep = replay_at <= spec.snapshot - 600
    chosen, replay_at = chosen[keep], replay_at[keep]
    replay_at = replay_at + np.arange(chosen.size)  # distinct replay times, so distinct loads

    def replay_time(h: np.ndarray) -> np.ndarray:
        """When the load of hour ``h`` was replayed, or -1."""
        if chosen.size == 0:
            return np.full(h.shape, -1, dtype=np.int64)
        idx = np.minimum(np.searchsorted(chosen, h), chosen.size - 1)
        return np.where(chosen[idx] == h, replay_at[idx], -1)

    # corrections: appended after the original and after any replay of the original's load
    corrected = present & (rng.random(n) < spec.correction_rate)
    after = np.maximum(ev["arrive"], replay_time(hour))
    corr_at = after + HOUR + rng.exponential(2 * DAY, size=n).astype(np.int64)
    # corrections land while new events still flow (before the last date ends), mixed into regular loads
    corrected &= corr_at <= (spec.start_day + spec.days) * DAY - 600
    delta = rng.choice(np.array([-3, -2, -1, 1, 2, 3, 4, 5]), size=n)
    deleted = rng.random(n) < spec.delete_share
    corr_value = np.where(deleted, 0, np.maximum(ev["value"] + delta, 0))
    day = ev["ts"] // DAY - spec.start_day
    shift = np.where(rng.random(n) < 0.5, -1, 1)
    shift = np.where(day == 0, 1, np.where(day == spec.days - 1, -1, shift))
    if spec.days == 1:
        shift = np.zeros(n, dtype=np.int64)
    moved = corrected & (rng.random(n) < spec.move_share) & (shift != 0)
    corr_ts = ev["ts"] + np.where(moved, shift * DAY, 0)
    ev.update(
        corrected=corrected,
        corr_at=np.where(corrected, corr_at, 0),
        corr_value=np.where(corrected, corr_value, 0),
        corr_ts=np.where(corrected, corr_ts, 0),
    )
    orig = np.flatnonzero(present)
    corr = np.flatnonzero(corrected)
    primary = {
        "event_id": np.concatenate([ev["event_id"][orig], ev["event_id"][corr]]),
        "company_id": np.concatenate([ev["company_id"][orig], ev["company_id"][corr]]),
        "ts": np.concatenate([ev["ts"][orig], corr_ts[corr]]),
        "events": np.concatenate([ev["value"][orig], corr_value[corr]]),
        "ingested": np.concatenate([ev["arrive"][orig], corr_at[corr]]),
        "kind": np.concatenate([np.full(orig.size, KIND_ORIGINAL), np.full(corr.size, KIND_CORRECTION)]),
    }
    primary["load_start"] = primary["ingested"] // HOUR * HOUR
    primary["stream"] = np.zeros(primary["ingested"].size, dtype=np.int64)
    # replay copies of every primary row in a replayed load
    r_at = replay_time(primary["ingested"] // HOUR)
    rep = np.flatnonzero(r_at >= 0)
    replay = {k: v[rep] for k, v in primary.items()}
    replay["ingested"] = r_at[rep] + rng.integers(0, 600, size=rep.size)
    replay["load_start"] = r_at[rep]
    replay["stream"] = np.ones(rep.size, dtype=np.int64)
    replay["kind"] = np.full(rep.size, KIND_REPLAY)
    # retry copies: seconds after their primary, in the same load
    ret = np.flatnonzero(rng.random(primary["ingested"].size) < spec.retry_rate)
    retry = {k: v[ret] for k, v in primary.items()}
    retry["ingested"] = retry["ingested"] + rng.integers(1, 31, size=ret.size)
    retry["kind"] = np.full(ret.size, KIND_RETRY)
    keep = retry["ingested"] <= spec.snapshot
    retry = {k: v[keep] for k, v in retry.items()}
    fixed = np.concatenate([corrected[orig], np.zeros(corr.size, dtype=bool)])  # originals later corrected
    backfill, bf_hours, bf_at = _backfills(spec, rng, primary, fixed)
    rows = {k: np.concatenate([primary[k], replay[k], retry[k], backfill[k]]) for k in primary}
    # load ids: 1, 2, ... in order of the loads' start; a replay, then a backfill, after a regular load starting the
    # same second
    key = rows["load_start"] * STREAMS + rows["stream"]
    uniq, inverse = np.unique(key, return_inverse=True)
    rows["load_id"] = inverse.astype(np.int64) + 1
    replays = {
        "hours": np.concatenate([chosen, bf_hours]),
        "at": np.concatenate([replay_at, bf_at]),
        "load_ids": np.concatenate(
            [np.searchsorted(uniq, replay_at * STREAMS + 1), np.searchsorted(uniq, bf_at * STREAMS + 2)]
        )
        + 1,
    }
    log.debug("replayed loads: %d, backfilled loads: %d", chosen.size, bf_hours.size)
    order = np.lexsort((rows["kind"], rows["event_id"], rows["ingested"]))
    return {k: v[order] for k, v in rows.items()}, replays


def _backfills(
    spec: SampleSpec, rng: np.random.Generator, primary: dict, fixed: np.ndarray
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Copies of every primary row of ``backfill_rate`` of the loads, re-ingested whole 3-10 days after the load's
    hour (before the snapshot), each backfill at its own time: (the rows, the loads' hours, the backfills' times).
    A load holding an event corrected later (``fixed``) is backfilled five times as often: backfills re-run the
    loads that had problems, so copies of corrected versions arrive after their correction."""
    hour = primary["ingested"] // HOUR
    hours = np.unique(hour)
    troubled = np.isin(hours, hour[fixed])
    rate = np.where(troubled, np.minimum(5 * spec.backfill_rate, 1.0), spec.backfill_rate)
    chosen = hours[rng.random(hours.size) < rate]
    at = chosen * HOUR + rng.integers(3 * DAY, 10 * DAY, size=chosen.size)
    keep = at <= spec.snapshot - 600
    chosen, at = chosen[keep], at[keep]
    at = at + np.arange(chosen.size)  # distinct times, so distinct loads
    idx = np.minimum(np.searchsorted(chosen, hour), max(chosen.size - 1, 0))
    picked = np.flatnonzero((chosen.size > 0) & (chosen[idx] == hour)) if chosen.size else np.array([], dtype=int)
    rows = {k: v[picked] for k, v in primary.items()}
    start = at[idx[picked]] if chosen.size else np.array([], dtype=np.int64)
    rows["ingested"] = start + rng.integers(0, 600, size=picked.size)
    rows["load_start"] = start
    rows["stream"] = np.full(picked.size, 2, dtype=np.int64)
    rows["kind"] = np.full(picked.size, KIND_BACKFILL)
    return rows, chosen, at


def _write_fact_events(con: duckdb.DuckDBPyConnection, folder: Path, spec: SampleSpec) -> None:
    """One parquet file per ingestion day, rows in ingestion order (the unoptimised 'before' layout)."""
    folder.mkdir(parents=True)
    for (d,) in con.execute(load_sql("sample_days")).fetchall():
        name = (dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).isoformat()
        execute(con, "sample_fact_day", {"d": d, "p": str(folder / f"ingested_{name}.parquet")})


def _write_api_and_dashboard(con: duckdb.DuckDBPyConnection, tmp: Path, spec: SampleSpec) -> None:
    execute(con, "sample_api", {"s": spec.snapshot, "p": str(tmp / "api_daily.csv")})
    execute(con, "sample_dashboard", {"p": str(tmp / "dashboard.parquet")})


def _write_truth(con: duckdb.DuckDBPyConnection, tmp: Path, spec: SampleSpec, replays: dict) -> None:
    execute(con, "sample_truth", {"p": str(tmp / "ground_truth.parquet")})
    con.register("rp", pa.table({"load_id": replays["load_ids"], "source_hour": replays["hours"]}))
    execute(con, "sample_truth_loads", {"p": str(tmp / "ground_truth_loads.parquet")})


def _write_meta(con: duckdb.DuckDBPyConnection, tmp: Path, spec: SampleSpec, tz: tuple) -> dict:
    counts = dict(
        zip(
            ("fact_rows", "retry_rows", "replay_rows", "correction_rows", "backfill_rows"),
            first_row(con, "sample_counts"),
            strict=True,
        )
    )
    snapshot = dt.datetime.fromtimestamp(spec.snapshot, dt.UTC).replace(tzinfo=None)
    zones = {int(c): str(z) for c, z in zip(*tz, strict=True)}
    meta = {
        "spec": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(spec).items()},
        "snapshot": snapshot.isoformat(),
        "tz_companies": zones,
        **counts,
    }
    (tmp / "sample.json").write_text(json.dumps(meta, indent=2) + "\n")
    zones_toml = ", ".join(f'"{z}"' for z in sorted(set(zones.values())))
    (tmp / "evtools.toml").write_text(
        "# evtools config for a generated sample (evtools sample). Paths are relative to this file.\n"
        "[sources]\n"
        'fact_events = "fact_events/*.parquet"\n'
        'api_daily = "api_daily.csv"\n'
        'dashboard = "dashboard.parquet"\n'
        "\n"
        "# The sample uses the canonical column names; map your own like this:\n"
        "# [columns.fact_events]\n"
        '# event_id = "record_uid"\n'
        '# company_id = "account_id"\n'
        "\n"
        "[settings]\n"
        "lookback_days = 2\n"
        f"timezones = [{zones_toml}]\n"
        f"earliest_date = {spec.start.isoformat()}\n"
    )
    return meta
