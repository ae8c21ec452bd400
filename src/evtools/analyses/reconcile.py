"""Reconcile the dashboard against the API and split every difference, exactly, into its causes.

The waterfall (the contract; ``sql/reconcile.sql`` implements it): for a (company_id, date) with dashboard value D
computed at T and API value A (a key missing on one side counts 0 there and is flagged):

- raw_asof = SUM(events) of rows with ingested_at <= T; latest_asof = SUM of latest versions as of T;
  latest_now = SUM of latest versions over all rows (latest is chosen per event_id over all keys, then summed on the
  key where that version lies);
- drift = D - raw_asof (the dashboard is not what a naive SUM gave at T: edited, computed differently, or stale);
- duplicates = duplicate excess among rows ingested <= T;
- corrections = raw_asof - latest_asof - duplicates;
- late = latest_asof - latest_now (negative when events arrived, or were corrected, after T);
- residual = latest_now - A (what the warehouse still lacks or has beyond the API: records never ingested, a
  different day bucketing, an API restatement);
- delta = D - A = drift + duplicates + corrections + late + residual.

cause = the component with the largest absolute value when |delta| exceeds the tolerance
(abs_tolerance + rel_tolerance * |A|), else "match"; a residual that vanishes when the company's events are bucketed
by the local day of a candidate zone (``timezone``, ``timezones`` settings; needs event_ts) is named "timezone".
T is the dashboard's computed_at for the key; a key the dashboard lacks takes the time its date was computed, or
date + dashboard_computed_offset_hours (see ``sql/dashboard_times.sql``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from evtools.analyses.quality import EVERYTHING, Scope, prepare, prepared_steps
from evtools.core.config import Config
from evtools.core.errors import DataError
from evtools.core.fsutil import atomic_dir, iso_date
from evtools.engines import pipeline
from evtools.engines.queries import drop, register, run
from evtools.engines.sources import available_columns, has_source

COLUMNS = [
    "company_id",
    "date",
    "dashboard_events",
    "api_events",
    "delta",
    "drift",
    "duplicates",
    "corrections",
    "late",
    "residual",
    "cause",
    "status",
]
COMPONENTS = ["drift", "duplicates", "corrections", "late", "residual"]
TZ_MAX_NET_SHARE = 0.5  # day-bucketing candidates: residuals cancel to within this share of their size


@dataclass(frozen=True)
class Reconciliation:
    """The waterfall for every compared key (an Arrow table, one row per key) and its summary."""

    table: pa.Table
    summary: dict = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        return self.table.to_pandas(date_as_object=False)

    def write(self, out: Path) -> list[Path]:
        with atomic_dir(out) as tmp:
            pq.write_table(self.table, tmp / "reconciliation.parquet")
            pacsv.write_csv(self.table, tmp / "reconciliation.csv")
            (tmp / "summary.json").write_text(json.dumps(self.summary, indent=2, default=str) + "\n")
        return [Path(out) / n for n in ("reconciliation.parquet", "reconciliation.csv", "summary.json")]


def zones(config: Config) -> list[str]:
    """Candidate zones for day-bucketing, in order of preference (UTC is the baseline, not a candidate)."""
    out: list[str] = []
    for zone in (config.settings.timezone, *config.settings.timezones):
        if zone != "UTC" and zone not in out:
            out.append(zone)
    return out


def compute(con: duckdb.DuckDBPyConnection, config: Config, scope: Scope = EVERYTHING) -> pa.Table:
    """The classified waterfall for the keys in ``scope`` (also left on ``con`` as ``_reconcile_final``)."""
    for name in ("dashboard", "api_daily"):
        if not has_source(con, name):
            raise DataError(f"{config.path}: [sources] has no '{name}'; reconciliation needs it")
    if (
        "computed_at" not in available_columns(con, "dashboard")
        and config.settings.dashboard_computed_offset_hours is None
    ):
        raise DataError(
            f"{config.source('dashboard').location}: the dashboard has no computed_at column, so when each row was "
            "computed is unknown; map computed_at in [columns.dashboard] or set settings.dashboard_computed_offset_hours"
        )
    prepare(con, config, scope)
    candidates = zones(config)
    rebucket = bool(candidates) and "event_ts" in available_columns(con, "fact_events")
    if rebucket:
        register(con, pipeline.ZONES, zone_table(candidates))
    steps = pipeline.RECONCILE + pipeline.timezones(rebucket) + pipeline.CLASSIFY
    for name in pipeline.made(pipeline.RECONCILE[:2], frozenset()):
        drop(con, name)  # the versions now, a view over a cache entry or a table: made again with those as of T
    given = pipeline.made(prepared_steps(con, scope)) | {pipeline.ZONES}
    return pipeline.fetch(con, steps, parameters(config, scope), given, as_arrow=True)


def parameters(config: Config, scope: Scope = EVERYTHING) -> dict:
    """The values reconciliation's queries take, for ``scope``."""
    return {
        "date_from": scope.date_from,
        "date_to": scope.date_to,
        "company": scope.company,
        "max_net_share": TZ_MAX_NET_SHARE,
        "abs_tol": config.settings.abs_tolerance,
        "rel_tol": config.settings.rel_tolerance,
    }


def zone_table(candidates: list[str]) -> pa.Table:
    """The candidate zones as the table ``_zones``: zone, pos (1 = preferred)."""
    return pa.table(
        {
            "zone": pa.array(candidates, pa.string()),
            "pos": pa.array(range(1, len(candidates) + 1), pa.int64()),
        }
    )


def reconcile(con: duckdb.DuckDBPyConnection, config: Config, scope: Scope = EVERYTHING) -> Reconciliation:
    """The reconciliation of the dashboard against the API for the keys in ``scope``."""
    table = compute(con, config, scope)
    return Reconciliation(table, summarise(con))


def summarise(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts, totals per component, shares of |delta| by component, keys per cause, the worst keys."""
    totals = run(con, "reconcile_summary").iloc[0].to_dict()
    causes = run(con, "reconcile_causes")
    worst = run(con, "reconcile_worst", {"n": 10})
    total_abs = float(sum(totals[f"abs_{c}"] for c in COMPONENTS)) or 1.0
    return {
        "keys_compared": int(totals["keys"]),
        "mismatched": int(totals["mismatched"]),
        "matched": int(totals["matched"]),
        "missing_in_dashboard": int(totals["missing_in_dashboard"]),
        "missing_in_api": int(totals["missing_in_api"]),
        "first_date": iso_date(totals["first_date"]),
        "last_date": iso_date(totals["last_date"]),
        "dashboard_events": int(totals["dashboard_events"]),
        "api_events": int(totals["api_events"]),
        "delta": int(totals["delta"]),
        "abs_delta": int(totals["abs_delta"]),
        "totals": {c: int(totals[c]) for c in COMPONENTS},
        "abs_totals": {c: int(totals[f"abs_{c}"]) for c in COMPONENTS},
        "share_of_abs_delta": {c: totals[f"abs_{c}"] / total_abs for c in COMPONENTS},
        "keys_by_cause": {k: int(v) for k, v in causes.groupby("cause")["keys"].sum().items()},
        "abs_delta_by_cause": {k: int(v) for k, v in causes.groupby("cause")["abs_delta"].sum().items()},
        "timezone_zones": {
            str(k): int(v)
            for k, v in causes[causes["cause"] == "timezone"].groupby("tz_zone")["keys"].sum().items()
        },
        "worst_keys": worst.assign(date=worst["date"].map(iso_date)).to_dict(orient="records"),
    }


def as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


ROLES = {
    "duplicate": "duplicates: copies ingested by T of an earlier row (same event_id and events)",
    "superseded": "corrections: versions ingested by T that a later version (by T) replaces",
    "after_t": "late: rows ingested after T that changed the event's latest version (new events, new versions)",
    "copy_after_t": "rows ingested after T repeating a version already there by T (no effect)",
    "counted": "rows of the latest version as of T",
    "other_key": "the same events' rows on other keys",
}


@dataclass(frozen=True)
class Explanation:
    """One key's waterfall and the rows behind it (``rows`` with a ``role`` per row, see ``ROLES``)."""

    company_id: object
    date: dt.date
    waterfall: dict
    rows: pd.DataFrame

    def evidence(self, role: str) -> pd.DataFrame:
        return self.rows[self.rows["role"] == role].reset_index(drop=True)

    def write(self, out: Path) -> list[Path]:
        with atomic_dir(out) as tmp:
            (tmp / "waterfall.json").write_text(json.dumps(self.waterfall, indent=2, default=str) + "\n")
            self.rows.to_csv(tmp / "evidence.csv", index=False)
        return [Path(out) / "waterfall.json", Path(out) / "evidence.csv"]


def explain(con: duckdb.DuckDBPyConnection, config: Config, company: str, date: str | dt.date) -> Explanation:
    """The waterfall of one (company_id, date) and its evidence rows.

    Computed over the company's rows only, on all its dates: the figures and the cause are those ``reconcile``
    gives the key (whether a residual is a day-bucketing shift is judged over the company's range).
    """
    day = as_date(date)
    table = compute(con, config, Scope(company=str(company)))
    found = [r for r in table.to_pylist() if r["date"] == day]
    if not found:
        raise DataError(f"company {company} on {day}: no such key in the dashboard or the API")
    row = found[0]
    waterfall = {k: (iso_date(v) if k == "date" else v) for k, v in row.items()}
    rows = run(con, "explain_rows", {"company": str(company), "date": day})
    return Explanation(row["company_id"], day, waterfall, rows)


def worst_keys(result: Reconciliation, n: int = 10) -> pd.DataFrame:
    """The ``n`` keys with the largest |delta| (from the summary)."""
    return pd.DataFrame(result.summary["worst_keys"]).head(n)


def drill_key(result: Reconciliation, company: str = "", date: str = "") -> tuple[str, dt.date]:
    """The key to drill into: the given one, else the worst key of the reconciliation."""
    if company and date:
        return company, as_date(date)
    worst = result.summary["worst_keys"]
    if not worst:
        raise DataError("no differing key to drill into; give drill_company and drill_date")
    return str(worst[0]["company_id"]), as_date(worst[0]["date"])
