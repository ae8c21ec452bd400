"""The definitions every evtools figure rests on, stated once (the SQL that implements each is named beside it).

Latest version (``sql/versions.sql``, the only place that orders versions):

- The payload of a fact_events row is (event_id, company_id, date, events). The versions of an event_id are its
  distinct payloads.
- A payload's first arrival is the smallest ingested_at among its rows; its version value is the greatest ``version``
  among its rows (the optional ``version`` column of the mapping: the source's updated_at or a sequence number;
  NULL when unmapped, and a NULL ranks below every value).
- The latest version of an event_id is its payload with the greatest version value; among those, the one whose first
  arrival is the most recent; then the larger events (then the later date, then the greater company_id, so the
  choice is always unique). A row repeating a payload that already arrived is a duplicate, never a new version,
  however late it comes: a replay of an old load cannot undo a correction. A correction to 0 events is a deletion;
  a correction may move an event to another date or company.
- "As of T" applies the same rule to the rows ingested <= T (first arrivals and version values among those rows).

Arrival lag (``sql/macros.sql``, ``arrival_lag``): whole days from a row's date to the UTC date of its ingested_at.

Computation time T of a row (``sql/fact_times.sql``): when the dashboard computed the row's (company_id, date): the
key's computed_at; for a key the dashboard lacks, the computed_at all keys of its date share (the run that computed
the date found no rows for it); else date + ``dashboard_computed_offset_hours``; else unknown.

Lookback window (``lookback_since``): a daily run on run date R with ``lookback_days = k`` re-reads the dates R - k
through R. The run date of a run that covers the rows ingested up to ``until`` is the UTC date of the last instant it
covers (``run_date``: a run at midnight covers the day that just ended). A daily run at the end of each day therefore
re-reads every row whose arrival lag is <= k, and misses exactly the rows whose arrival lag is > k.
"""

from __future__ import annotations

import datetime as dt

_INSTANT = dt.timedelta(microseconds=1)


def run_date(until: dt.datetime) -> dt.date:
    """The run date of a run covering the rows ingested up to ``until``: the UTC date of its last instant."""
    return (until - _INSTANT).date()


def lookback_since(until: dt.datetime, k: int) -> dt.date:
    """The first date a run covering rows up to ``until`` re-reads with ``lookback_days = k``: run date - k."""
    return run_date(until) - dt.timedelta(days=k)
