"""Plain-language findings written from measured numbers (markdown), for notebooks, reports and the Slack update."""

from __future__ import annotations


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def size(n: float) -> str:
    """Bytes as GB from 100 MB up, else MB."""
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def quality(s: dict) -> str:
    share = s["share_of_events"]
    replays = (
        f"{s['replayed_loads']} replayed loads account for {pct(s['share_of_duplicate_excess_from_replays'])} of that."
        if s["replays_measured"]
        else "Replays are not measured: fact_events has no load_id column."
    )
    lines = [
        f"- **Duplicates** add {s['duplicate_excess']:,} events ({pct(share['duplicate_excess'], 2)} of all "
        f"{s['total_events']:,}) on {s['keys_with_duplicates']:,} of {s['keys']:,} company/date keys; {replays}",
        f"- **Corrections** appended as new rows leave {s['superseded_versions']:,} superseded versions that add "
        f"{s['correction_excess']:,} events ({pct(share['correction_excess'], 2)}). `SELECT DISTINCT` removes the "
        "duplicates but keeps every one of these, so by definition it still over-counts by exactly those "
        f"{s['correction_excess']:,} events; only keeping the latest version per event_id is exact.",
    ]
    if s["late_rows"] is None:
        lines.append(f"- **Late rows**: unknown: {s['late_unknown_reason']}.")
    elif s["late_rows"]:
        lines.append(
            f"- **Late rows**: {s['late_rows']:,} rows ({s['late_events']:,} events) arrived after the dashboard had "
            "computed their date, so the dashboard never saw them."
        )
    rec = s["recommended_lookback_days"]
    lines.append(
        f"- **Lookback**: an incremental job re-reading {s['configured_lookback_days']} days misses "
        f"{s['configured_lookback_missed_events']:,} events ({pct(s['configured_lookback_missed_share'], 2)}). "
        + (
            f"Covering {pct(s['coverage_target'], 1)} of events takes {rec} days, re-reading about "
            f"{s['rows_reread_per_run_recommended']:,} rows per run instead of {s['rows_reread_per_run_configured']:,}; "
            f"the longest lag seen is {s['max_lag_days']} days. An incremental refresh driven by ingested_at "
            "instead of a date window catches every late row at the cost of the new rows only."
            if rec is not None
            else f"No lookback up to {s['max_lag_days']} days reaches {pct(s['coverage_target'], 1)}."
        )
    )
    return "\n".join(lines)


def reconciliation(s: dict) -> str:
    parts = sorted(s["abs_totals"], key=lambda c: -s["abs_totals"][c])
    top = [c for c in parts if s["abs_totals"][c] > 0]
    lines = [
        f"- {s['mismatched']:,} of {s['keys_compared']:,} company/date keys differ between the dashboard and the API "
        f"(net {s['delta']:+,} events, {s['abs_delta']:,} in absolute terms).",
    ]
    if top:
        lines.append(
            "- By size: "
            + "; ".join(f"**{c}** {pct(s['share_of_abs_delta'][c])} ({s['totals'][c]:+,} net)" for c in top)
            + "."
        )
    for zone, keys in s.get("timezone_zones", {}).items():
        lines.append(f"- {keys:,} keys match exactly once days are bucketed in **{zone}** instead of UTC.")
    if s["missing_in_dashboard"] or s["missing_in_api"]:
        lines.append(
            f"- {s['missing_in_dashboard']:,} keys exist only in the API and {s['missing_in_api']:,} only in the "
            "dashboard."
        )
    return "\n".join(lines)


def explanation(w: dict) -> str:
    parts = [c for c in ("drift", "duplicates", "corrections", "late", "residual") if w[c]]
    said = ", ".join(f"{c} {w[c]:+,}" for c in parts) or "nothing"
    tz = f" The residual vanishes when days are bucketed in {w['tz_zone']}." if w.get("tz_zone") else ""
    return (
        f"Dashboard {w['dashboard_events']:,} vs API {w['api_events']:,} for company {w['company_id']} on "
        f"{w['date']}: delta {w['delta']:+,} = {said}. Cause: **{w['cause']}**.{tz}"
    )


def profile(full, window=None) -> str:
    """What the job's plan says: where the time goes, what it reads, and the flags."""
    t = full.totals
    ops = full.operators
    top = ops.loc[ops["share_of_time"].idxmax()] if len(ops) else None
    lines = [
        f"- The job's query took {t['seconds']:.3f} s and read {(t['bytes_read'] or 0) / 1e6:,.1f} MB: "
        f"{t['rows_scanned']:,} rows from {t['row_groups_scanned']} of {t['row_groups_total']} row groups in "
        f"{t['files_read']} files."
    ]
    if top is not None:
        lines.append(f"- {top['operator']} takes {pct(top['share_of_time'])} of the operators' time.")
    lines += [f"- Flag **{f['flag']}**: {f['evidence']}." for f in full.flags]
    if window is not None:
        w = window.totals
        lines.append(
            f"- Restricted to the incremental window it reads {(w['bytes_read'] or 0) / 1e6:,.1f} MB "
            f"({pct((w['bytes_read'] or 0) / max(t['bytes_read'] or 1, 1))} of the full job) from "
            f"{w['row_groups_scanned']} of {w['row_groups_total']} row groups, but still opens {w['files_read']} files: "
            "pruning works on the statistics of each file, and every footer must be read to use them."
        )
    return "\n".join(lines)


def layout(s: dict) -> str:
    """What re-laying the data buys, from the layout measurements."""
    b = s["by_layout"]
    after = s["after_layout"]
    lines = [
        f"- Today the full job reads {s['full_bytes_before'] / 1e6:,.1f} MB every run "
        f"({s['full_seconds_before']:.3f} s).",
        f"- The {s['window_days']}-day incremental window reads {s['window_bytes_before'] / 1e6:,.1f} MB as ingested "
        f"and {s['window_bytes_after'] / 1e6:,.2f} MB partitioned by date: {pct(s['window_share_after'], 2)} of the full "
        f"job, {s['window_to_ideal']:.2f}x what the needed rows alone hold.",
    ]
    if "company_day" in b.get("before", {}) and "company_day" in b.get(after, {}):
        lines.append(
            f"- One company on one date: {b['before']['company_day']['bytes_read'] / 1e6:,.2f} MB as ingested, "
            f"{b[after]['company_day']['bytes_read'] / 1e6:,.3f} MB partitioned and sorted "
            f"(row groups {b['before']['company_day']['row_groups']} vs {b[after]['company_day']['row_groups']})."
        )
    return "\n".join(lines)


def replay(s: dict) -> str:
    return "\n".join(
        [
            f"- Over {s['days']} daily runs the exact refresh differed from a full recomputation on "
            f"**{s['verify_differences']}** keys; median run {s['median_touched_seconds']:.3f} s against "
            f"{s['median_full_seconds']:.3f} s for a full rebuild.",
            f"- The {s['lookback_days']}-day fixed-window job ends the replay missing **{s['lookback_missed_events']:,}** "
            f"events ({pct(s['lookback_missed_share'], 2)}) on {s['lookback_differing_keys']:,} keys: rows that arrived "
            "after their date left the window.",
        ]
    )


def ingestion(i: dict, lookback: int) -> str:
    return "\n".join(
        [
            f"- {i['rows']:,} rows ({i['events']:,} events) were ingested, for {i['dates_touched']} dates.",
            f"- {i['duplicate_rows']:,} of them repeat rows already there ({i['duplicate_events']:,} events); "
            f"{i['correction_rows']:,} are new versions of events ingested before.",
            f"- {i['rows_older_than_lookback']:,} rows ({i['events_older_than_lookback']:,} events) are for dates more "
            f"than {lookback} days back: a {lookback}-day incremental job would never count them.",
        ]
    )


def definitions(module) -> str:
    """The definitions a module's docstring states (its bullet list), as markdown, so reports quote them verbatim."""
    doc = (module.__doc__ or "").strip().splitlines()
    bullets, current = [], None
    for line in doc:
        if line.startswith("- "):
            current = line[2:].strip()
            bullets.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            bullets[-1] += " " + line.strip()
        elif current is not None and not line.strip():
            current = None
            if bullets:
                break
    return "\n".join(f"- {b}" for b in bullets)
