"""The columns each report table shows: label, kind of value (``fmt.KINDS``) and why a value may be unknown.

A table shows these columns only; the csv written beside the page keeps every column of the frame.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Col:
    """A table column: its frame column, label, kind (see ``fmt.KINDS``) and why a value may be unknown."""

    name: str
    label: str
    kind: str = "text"
    unknown: str = "not measured"

OPERATORS = [
    Col("operator", "operator"),
    Col("share_of_time", "share of time", "share"),
    Col("seconds", "time", "seconds"),
    Col("rows_in", "rows in", "count"),
    Col("rows_out", "rows out", "count"),
    Col("estimated_rows", "estimated rows", "count", "no estimate"),
    Col("row_groups_scanned", "row groups read", "count", "not a scan"),
    Col("row_groups_total", "row groups", "count", "not a scan"),
    Col("files_read", "files", "count", "not a scan"),
    Col("filters", "filters", "text", "no filter"),
]
MEASUREMENTS = [
    Col("layout", "layout"),
    Col("query", "query"),
    Col("median_seconds", "median time", "seconds"),
    Col("bytes_read", "bytes read", "bytes"),
    Col("bytes_read_vs_before", "vs as ingested", "share"),
    Col("ideal_bytes", "ideal", "bytes"),
    Col("bytes_vs_ideal", "vs ideal", "ratio"),
    Col("row_groups_scanned", "row groups read", "count"),
    Col("row_groups_total", "row groups", "count"),
    Col("files_read", "files", "count"),
]
QUALITY_WORST = [
    Col("company_id", "company"),
    Col("date", "date", "date"),
    Col("rows", "rows", "count"),
    Col("duplicate_excess", "duplicate events", "count"),
    Col("correction_excess", "superseded events", "count"),
    Col("excess", "extra events", "count"),
    Col("late_events", "late events", "count", "the dashboard has no computation time"),
]
REPLAYED_LOADS = [
    Col("load_id", "load"),
    Col("source_load_id", "repeats load"),
    Col("rows", "rows", "count"),
    Col("share_repeated", "repeated", "share"),
    Col("events_added", "events added", "count"),
    Col("first_ingested_at", "ingested", "timestamp"),
    Col("first_date", "first date", "date"),
    Col("last_date", "last date", "date"),
]
DISTINCT_EXAMPLE = [
    Col("event_id", "event_id"),
    Col("company_id", "company"),
    Col("date", "date", "date"),
    Col("events", "events", "count"),
    Col("ingested_at", "ingested", "timestamp"),
    Col("load_id", "load", "text", "no load_id"),
    Col("kept_by_distinct", "kept by DISTINCT", "yesno"),
    Col("is_latest_version", "latest version", "yesno"),
]
RECONCILE_WORST = [
    Col("company_id", "company"),
    Col("date", "date", "date"),
    Col("dashboard_events", "dashboard", "count", "missing in the dashboard"),
    Col("api_events", "API", "count", "missing in the API"),
    Col("delta", "difference", "signed"),
    Col("duplicates", "duplicates", "signed"),
    Col("corrections", "corrections", "signed"),
    Col("late", "late", "signed"),
    Col("residual", "residual", "signed"),
    Col("drift", "drift", "signed"),
    Col("cause", "cause"),
]
EVIDENCE = [
    Col("event_id", "event_id"),
    Col("date", "date", "date"),
    Col("events", "events", "count"),
    Col("ingested_at", "ingested", "timestamp"),
    Col("load_id", "load", "text", "no load_id"),
    Col(
        "lag_past_t", "after the dashboard by", "duration", "ingested before the dashboard computed the date"
    ),
    Col("is_latest_now", "latest version now", "yesno"),
]
REPLAY_DAYS = [
    Col("until", "run (data up to)", "date"),
    Col("mode", "mode"),
    Col("new_rows", "new rows", "count"),
    Col("touched_seconds", "exact refresh", "seconds"),
    Col("lookback_seconds", "fixed window", "seconds"),
    Col("full_seconds", "full rebuild", "seconds"),
    Col("touched_differing_keys", "exact: differing", "count"),
    Col("lookback_missing_events", "fixed window: events missing", "count"),
]
JOBS = [  # runs_text.jobs_table: its figures already written with their units
    Col("job", "job"),
    Col("verdict", "verdict"),
    Col("runs", "runs"),
    Col("time first → last", "time, first → last runs (median)", "text", "no fitted run"),
    Col("volume first → last", "volume, first → last runs (median)", "text", "the log has no rows or bytes"),
    Col("R²", "R² of one line", "text", "no volume, or too few runs, to fit"),
    Col("change points", "change points", "count"),
    Col("slow runs", "slow runs", "count"),
    Col("failed", "failed", "count"),
    Col("timeouts", "timeouts", "count"),
]
EXPECTATIONS = [
    Col("suite", "suite"),
    Col("column", "column"),
    Col("check", "check"),
    Col("result", "result"),
    Col("observed", "observed", "text", "a per-row check: see unexpected rows"),
    Col("unexpected_count", "unexpected rows", "count", "not a per-row check"),
]


def expectations(results):
    """The validation results as the daily page lists them: failures first, check in words, pass or FAILED."""
    frame = results.assign(
        check=results["expectation"].str.removeprefix("expect_").str.replace("_", " "),
        result=results["success"].map({True: "pass", False: "FAILED"}),
        failed=~results["success"].astype(bool),
        observed=results["observed"].map(lambda v: None if v is None else str(v)),
    )
    return frame.sort_values("success", kind="stable")
