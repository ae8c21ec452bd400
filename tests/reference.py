"""An independent reference implementation of evtools' definitions, in plain Python over small frames.

Written from the contract in ``evtools.core.rules``, ``evtools.analyses.quality`` and ``evtools.analyses.reconcile``, not from the SQL: one
event at a time, one key at a time, with loops a reader can check by eye. Tests compare evtools with it key by key.
Frames use the canonical columns: fact (event_id, company_id, date, events, ingested_at[, version]), dashboard
(company_id, date, events[, computed_at]), api (company_id, date, events); dates are ``datetime.date``, times are
pandas Timestamps.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

COMPONENTS = ["drift", "duplicates", "corrections", "late", "residual"]


def history(fact: pd.DataFrame) -> dict:
    """event_id -> {(company_id, date, events): [(ingested_at, version), ...] in arrival order}."""
    out: dict = defaultdict(lambda: defaultdict(list))
    has_version = "version" in fact
    for r in fact.itertuples(index=False):
        version = r.version if has_version else None
        version = None if version is None or pd.isna(version) else version
        out[r.event_id][(r.company_id, r.date, r.events)].append((r.ingested_at, version))
    for versions in out.values():
        for arrivals in versions.values():
            arrivals.sort(key=lambda a: a[0])
    return out


def payloads(fact: pd.DataFrame | dict, as_of=None) -> dict:
    """event_id -> {(company_id, date, events): {"first": first arrival, "version": greatest version, "n": rows}},
    over the rows ingested <= ``as_of`` (all rows when None). ``fact`` may be a ``history`` already built."""
    out: dict = {}
    for e, versions in (history(fact) if isinstance(fact, pd.DataFrame) else fact).items():
        for key, arrivals in versions.items():
            seen = [a for a in arrivals if as_of is None or a[0] <= as_of]
            if not seen:
                continue
            known = [v for _, v in seen if v is not None]
            out.setdefault(e, {})[key] = {
                "first": seen[0][0],
                "version": max(known) if known else None,
                "n": len(seen),
            }
    return out


def _rank(item) -> tuple:
    (company, date, events), p = item
    has_version = p["version"] is not None
    return (has_version, p["version"] if has_version else 0, p["first"], events, date, company)


def latest(fact: pd.DataFrame | dict, as_of=None) -> dict:
    """event_id -> its latest payload (company_id, date, events) among the rows ingested <= ``as_of``: the
    greatest version, then the most recent first arrival, then the larger events, date, company_id."""
    return {e: max(ps.items(), key=_rank)[0] for e, ps in payloads(fact, as_of).items()}


def aggregate(fact: pd.DataFrame | dict, as_of=None) -> pd.DataFrame:
    """The exact aggregate as of ``as_of``: per key, the events and the count of the latest versions lying on it.
    ``fact`` may be a ``history`` already built (for many ``as_of`` over one table)."""
    sums: dict = defaultdict(lambda: [0, 0])
    for company, date, events in latest(fact, as_of).values():
        sums[(company, date)][0] += events
        sums[(company, date)][1] += 1
    frame = pd.DataFrame(
        [(c, d, v[0], v[1]) for (c, d), v in sums.items()], columns=["company_id", "date", "events", "rows"]
    )
    return frame.sort_values(["company_id", "date"]).reset_index(drop=True)


def computation_time(dashboard: pd.DataFrame | None, company, date: dt.date, offset_hours: float | None):
    """T of a key: its computed_at (date + offset when it has none); for a key the dashboard lacks, the time all
    keys of its date share; else date + offset; else None."""
    if dashboard is None or dashboard.empty:
        return _time(None, None, date, offset_hours)
    own = dashboard[(dashboard["company_id"] == company) & (dashboard["date"] == date)]
    return _time(own, dashboard[dashboard["date"] == date], date, offset_hours)


def computation_times(dashboard: pd.DataFrame | None, keys, offset_hours: float | None) -> dict:
    """(company_id, date) -> its ``computation_time``, for each of ``keys``: the same rule, the dashboard's rows
    grouped once by key and by date instead of filtered for every key."""
    if dashboard is None or dashboard.empty:
        return {(c, d): _time(None, None, d, offset_hours) for c, d in keys}
    own = {k: rows for k, rows in dashboard.groupby(["company_id", "date"])}
    days = {d: rows for d, rows in dashboard.groupby("date")}
    return {(c, d): _time(own.get((c, d)), days.get(d), d, offset_hours) for c, d in keys}


def _time(own: pd.DataFrame | None, day: pd.DataFrame | None, date: dt.date, offset_hours: float | None):
    """``computation_time`` from the dashboard's rows of the key (``own``) and of its date (``day``)."""
    fallback = pd.Timestamp(date) + pd.Timedelta(hours=offset_hours) if offset_hours is not None else None

    def key_time(rows: pd.DataFrame):
        if "computed_at" in rows and rows["computed_at"].notna().any():
            return rows["computed_at"].max()
        return fallback

    if own is not None and len(own):
        return key_time(own)
    if day is None:
        return fallback
    times = [key_time(g) for _, g in day.groupby("company_id")]
    if times and all(t is not None for t in times) and len(set(times)) == 1:
        return times[0]
    return fallback


def _by_key(versions: dict, now: dict) -> dict:
    """(company_id, date) -> [duplicate rows, duplicate excess, superseded versions, their events, latest events]."""
    out: dict = defaultdict(lambda: [0, 0, 0, 0, 0])
    for e, ps in versions.items():
        for (c, d, ev), p in ps.items():
            k = out[(c, d)]
            k[0] += p["n"] - 1
            k[1] += (p["n"] - 1) * ev
            if now[e] == (c, d, ev):
                k[4] += ev
            else:
                k[2] += 1
                k[3] += ev
    return out


def quality(fact: pd.DataFrame, dashboard: pd.DataFrame | None, offset_hours=None) -> pd.DataFrame:
    """Per key of fact_events: rows, duplicate rows and excess, superseded versions, correction excess, late rows
    and events (None where T is unknown), total and latest events."""
    h = history(fact)
    figures = _by_key(payloads(h), latest(h))
    groups = {k: rows for k, rows in fact.groupby(["company_id", "date"])}
    times = computation_times(dashboard, groups, offset_hours)
    out = []
    for (company, date), rows in groups.items():
        t = times[(company, date)]
        dup_rows, dup_excess, superseded, corr, latest_events = figures[(company, date)]
        late = None if t is None else rows[rows["ingested_at"] > t]
        out.append(
            {
                "company_id": company,
                "date": date,
                "rows": len(rows),
                "total_events": int(rows["events"].sum()),
                "duplicate_rows": dup_rows,
                "duplicate_excess": dup_excess,
                "superseded_versions": superseded,
                "correction_excess": corr,
                "latest_events": latest_events,
                "late_rows": None if late is None else len(late),
                "late_events": None if late is None else int(late["events"].sum()),
            }
        )
    return pd.DataFrame(out)


def waterfall(
    fact: pd.DataFrame,
    dashboard: pd.DataFrame,
    api: pd.DataFrame,
    offset_hours=None,
    abs_tol: float = 0,
    rel_tol: float = 0,
) -> pd.DataFrame:
    """Per key of the dashboard or the API: the five components and the cause (no day-bucketing candidates)."""
    d_sum = dashboard.groupby(["company_id", "date"])["events"].sum().to_dict()
    a_sum = api.groupby(["company_id", "date"])["events"].sum().to_dict()
    h = history(fact)
    now = _by_key(payloads(h), latest(h))
    as_of: dict = {}  # T -> the per-key figures of the rows ingested <= T
    rows_by_key = {k: g for k, g in fact.groupby(["company_id", "date"])}
    keys = sorted(set(d_sum) | set(a_sum), key=lambda k: (str(k[0]), k[1]))
    keys_at = computation_times(dashboard, keys, offset_hours)
    on_events: dict = defaultdict(set)  # (company_id, date) -> the events with a version on it
    for e, vs in h.items():
        for c, d, _ in vs:
            on_events[(c, d)].add(e)
    out = []
    for company, date in keys:
        t = keys_at[(company, date)]
        on_key = rows_by_key.get((company, date), fact.iloc[0:0])
        if t is None:
            raw = latest_asof = dup = 0
        else:
            if t not in as_of:  # the events with a version on a key computed at t decide those keys
                keys = {k for k in keys_at if keys_at[k] == t}
                sub = {e: h[e] for e in set().union(*(on_events[k] for k in keys))}
                as_of[t] = _by_key(payloads(sub, t), latest(sub, t))
            raw = int(on_key.loc[on_key["ingested_at"] <= t, "events"].sum())
            figures = as_of[t].get((company, date), [0, 0, 0, 0, 0])
            dup, latest_asof = figures[1], figures[4]
        latest_now = now.get((company, date), [0, 0, 0, 0, 0])[4]
        dash, a = int(d_sum.get((company, date), 0)), int(a_sum.get((company, date), 0))
        parts = {
            "drift": dash - raw,
            "duplicates": dup,
            "corrections": raw - latest_asof - dup,
            "late": latest_asof - latest_now,
            "residual": latest_now - a,
        }
        delta = dash - a
        if abs(delta) <= abs_tol + rel_tol * abs(a):
            cause = "match"
        else:
            top = max(abs(v) for v in parts.values())
            cause = next(c for c in COMPONENTS if abs(parts[c]) == top)
        out.append(
            {
                "company_id": company,
                "date": date,
                "dashboard_events": dash,
                "api_events": a,
                "delta": delta,
                **parts,
                "cause": cause,
                "raw_asof": raw,
                "latest_asof": latest_asof,
                "latest_now": latest_now,
            }
        )
    return pd.DataFrame(out)
