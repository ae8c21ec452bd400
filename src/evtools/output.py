"""What the CLI prints: the only module that writes to stdout."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from evtools.redact import scrub

if TYPE_CHECKING:
    import pandas as pd


def echo(text: str = "") -> None:
    print(scrub(text))


def written(paths: list, out) -> None:
    print(f"\nwrote {', '.join(p.name for p in paths)} to {out}")


def error(text: str) -> None:
    """The one line of a failed command, on stderr."""
    print(f"evtools: {scrub(text)}", file=sys.stderr)


def traceback(e: BaseException) -> None:
    """The traceback of ``e`` (``--debug``), secrets removed."""
    import traceback as tb

    print(scrub("".join(tb.format_exception(e))).rstrip(), file=sys.stderr)


def table(frame: pd.DataFrame, title: str | None = None, max_rows: int = 30) -> None:
    if title:
        print(f"\n{title}")
    if frame.empty:
        print("  (no rows)")
        return
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 40, "display.max_colwidth", 60):
        print(scrub(frame.head(max_rows).to_string(index=False)))
    if len(frame) > max_rows:
        print(f"  ... {len(frame) - max_rows} more rows")


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def quality_summary(s: dict) -> None:
    share = s["share_of_events"]
    print(
        f"fact_events: {s['rows']:,} rows, {s['total_events']:,} events, {s['keys']:,} company/date keys "
        f"({s['first_date']} .. {s['last_date']})"
    )
    print(
        f"duplicates:  {s['duplicate_rows']:,} rows add {s['duplicate_excess']:,} events "
        f"({_pct(share['duplicate_excess'])}) on {s['keys_with_duplicates']:,} keys"
    )
    if s["replays_measured"]:
        print(
            f"replays:     {s['replayed_loads']} loads re-ingested {s['replayed_rows']:,} rows, adding "
            f"{s['replayed_events']:,} events ({_pct(s['share_of_duplicate_excess_from_replays'])} of the duplicate "
            "excess)"
        )
    else:
        print("replays:     not measured (fact_events has no load_id column)")
    print(
        f"corrections: {s['superseded_versions']:,} superseded versions add {s['correction_excess']:,} events "
        f"({_pct(share['correction_excess'])}); SELECT DISTINCT keeps them all, so by definition it over-counts "
        "by exactly this much"
    )
    if s["late_rows"] is None:
        print(f"late:        unknown: {s['late_unknown_reason']}")
    else:
        print(
            f"late:        {s['late_rows']:,} rows ({s['late_events']:,} events) arrived after the dashboard computed "
            "their date"
        )
    rec = s["recommended_lookback_days"]
    print(
        f"lookback:    {s['configured_lookback_days']} days misses {s['configured_lookback_missed_events']:,} events "
        f"({_pct(s['configured_lookback_missed_share'])}); recommended lookback {rec} days covers "
        f"{_pct(s['coverage_target'])} (longest lag {s['max_lag_days']} days)"
    )


def reconcile_summary(s: dict) -> None:
    print(
        f"compared {s['keys_compared']:,} company/date keys ({s['first_date']} .. {s['last_date']}): "
        f"{s['matched']:,} match, {s['mismatched']:,} differ "
        f"({s['missing_in_dashboard']:,} missing in the dashboard, {s['missing_in_api']:,} missing in the API)"
    )
    print(
        f"dashboard {s['dashboard_events']:,} vs API {s['api_events']:,} events: delta {s['delta']:+,}, "
        f"|delta| {s['abs_delta']:,}"
    )
    print("\n  component     total    |total|  share of |parts|  keys where it is the cause")
    for c in ("drift", "duplicates", "corrections", "late", "residual"):
        keys = s["keys_by_cause"].get(c, 0)
        print(
            f"  {c:12s} {s['totals'][c]:+9,} {s['abs_totals'][c]:9,}  {_pct(s['share_of_abs_delta'][c]):>15s}  {keys:,}"
        )
    for zone, keys in s["timezone_zones"].items():
        print(f"  timezone: {keys:,} keys' residual vanishes when days are bucketed in {zone}")


def explanation(e, roles: dict) -> None:
    w = e.waterfall
    print(
        f"company {w['company_id']} on {w['date']}: dashboard {w['dashboard_events']:,} (computed {w['computed_at']}), "
        f"API {w['api_events']:,}, delta {w['delta']:+,} -> cause {w['cause']} ({w['status']})"
    )
    for c in ("drift", "duplicates", "corrections", "late", "residual"):
        print(f"  {c:12s} {w[c]:+9,}")
    if w.get("tz_zone"):
        print(f"  the residual vanishes when days are bucketed in {w['tz_zone']}")
    for role, what in roles.items():
        rows = e.evidence(role)
        if role != "counted" and not rows.empty:
            table(
                rows.drop(columns=["role"]),
                title=f"{what}: {len(rows)} rows, {rows['events'].sum():,} events",
            )


def profile_summary(p) -> None:
    t = p.totals
    print(
        f"{t['seconds']:.3f} s, {(t['bytes_read'] or 0) / 1e6:,.1f} MB read, {t['rows_scanned']:,} rows scanned, "
        f"row groups {t['row_groups_scanned']}/{t['row_groups_total']}, {t['files_read']} files, "
        f"peak buffer {(t['peak_buffer_memory'] or 0) / 1e6:,.1f} MB"
    )
    cols = ["depth", "operator", "share_of_time", "rows_in", "rows_out", "estimated_rows", "filters"]
    table(p.operators[cols], title="operators")
    for f in p.flags:
        print(f"flag {f['flag']}: {f['evidence']}")


def layout_summary(r) -> None:
    cols = [
        "layout",
        "query",
        "median_seconds",
        "bytes_read",
        "bytes_read_vs_before",
        "bytes_vs_ideal",
        "row_groups_scanned",
        "row_groups_total",
        "files_read",
    ]
    table(r.measurements[cols], title="what each query reads, per layout")
    s = r.summary
    print(
        f"\nthe full job reads {s['full_bytes_before'] / 1e6:,.1f} MB as ingested; the {s['window_days']}-day window "
        f"reads {100 * s['window_share_after']:.2f}% of that in the {s['after_layout']} layout "
        f"({s['window_to_ideal']:.2f}x the ideal)"
    )
