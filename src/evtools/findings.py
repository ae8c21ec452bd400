"""The findings of a report run, written from the records its notebooks made (never recomputed).

Each finding carries ``impact``, a share in [0, 1] of what it is about (bytes read, events, keys), and findings are
ranked by it.
"""

from __future__ import annotations

from evtools.narrative import pct, size


def findings(kind: str, records: dict, runs: list) -> list[dict]:
    out: list[dict] = []
    html = {name: run.html for run in runs for name in run.records}
    if "layout" in records:
        lay = records["layout"]
        flags = {f["flag"] for f in records.get("profile", {}).get("flags", [])}
        out.append(
            {
                "title": (
                    "The job scans all history every day."
                    if "full_scan" in flags
                    else "Re-laying the data cuts what the job reads."
                ),
                "text": f"The full aggregation reads {size(lay['full_bytes_before'])} in the current layout; with the data "
                f"partitioned by date, the {lay['window_days']}-day incremental window reads "
                f"{pct(lay['window_share_after'], 2)} of that ({size(lay['window_bytes_after'])}, "
                f"{lay['window_to_ideal']:.2f}x the ideal).",
                "impact": 1 - lay["window_share_after"],
                "link": html.get("layout"),
                "link_text": "scan volume before and after",
            }
        )
    if "quality" in records:
        q = records["quality"]
        share = q["share_of_events"]
        out.append(
            {
                "title": "Duplicates inflate the totals.",
                "text": f"Retries and replays add {q['duplicate_excess']:,} events ({pct(share['duplicate_excess'], 2)}); "
                + (
                    f"{q['replayed_loads']} replayed loads account for "
                    f"{pct(q['share_of_duplicate_excess_from_replays'])} of it."
                    if q["replays_measured"]
                    else "replays are not measured (no load_id column)."
                ),
                "impact": share["duplicate_excess"],
                "link": html.get("quality"),
                "link_text": "duplicates per company and date",
            }
        )
        out.append(
            {
                "title": "Corrections are appended, not upserted, and DISTINCT keeps them.",
                "text": f"{q['superseded_versions']:,} superseded versions add {q['correction_excess']:,} events "
                f"({pct(share['correction_excess'], 2)}); SELECT DISTINCT still counts all of them.",
                "impact": share["correction_excess"],
                "link": html.get("quality"),
                "link_text": "the DISTINCT example",
            }
        )
        rec = q["recommended_lookback_days"]
        out.append(
            {
                "title": f"A {q['configured_lookback_days']}-day lookback misses late data.",
                "text": f"It misses {q['configured_lookback_missed_events']:,} events "
                f"({pct(q['configured_lookback_missed_share'], 2)}); {rec} days covers "
                f"{pct(q['coverage_target'], 1)}; the longest lag is {q['max_lag_days']} days.",
                "impact": q["configured_lookback_missed_share"],
                "link": html.get("quality"),
                "link_text": "the coverage curve",
            }
        )
    if "reconcile" in records:
        r = records["reconcile"]
        top = max(r["share_of_abs_delta"], key=lambda c: r["share_of_abs_delta"][c])
        out.append(
            {
                "title": "The dashboard disagrees with the API.",
                "text": f"{r['mismatched']:,} of {r['keys_compared']:,} keys differ; the largest part of |delta| is "
                f"{top} ({pct(r['share_of_abs_delta'][top])}).",
                "impact": r["mismatched"] / r["keys_compared"] if r["keys_compared"] else 0.0,
                "link": html.get("reconcile"),
                "link_text": "the reconciliation",
            }
        )
    if "refresh" in records:
        f = records["refresh"]
        out.append(
            {
                "title": "An exact incremental refresh replaces the full rebuild.",
                "text": (
                    "Replaying the ingestion day by day, the exact refresh matched a full recomputation on every run"
                    if f["verify_differences"] == 0
                    else f"Replaying the ingestion day by day, the exact refresh differed from a full recomputation "
                    f"on {f['verify_differences']:,} keys"
                )
                + f"; the fixed {f['lookback_days']}-day job missed {f['lookback_missed_events']:,} events.",
                "impact": f.get("lookback_missed_share", 0.0),
                "link": html.get("refresh"),
                "link_text": "the refresh replay",
            }
        )
    from evtools.runs_text import report_findings

    out += report_findings(records, html.get("history"))
    return sorted(out, key=lambda f: -f["impact"])


def headline(kind: str, records: dict, runs: list) -> str:
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        return f"failed in {failed[0].name}: {failed[0].error}"
    if kind == "daily" and "daily" in records:
        return records["daily"]["verdict"]
    parts = []
    if "quality" in records:
        q = records["quality"]
        parts.append(f"duplicates +{pct(q['share_of_events']['duplicate_excess'], 2)} of events")
        parts.append(
            f"{q['configured_lookback_days']}-day lookback misses {pct(q['configured_lookback_missed_share'], 2)}"
        )
    if "reconcile" in records:
        r = records["reconcile"]
        parts.append(f"{r['mismatched']:,}/{r['keys_compared']:,} keys differ")
    return "; ".join(parts) or "ok"


def verdict(kind: str, records: dict, runs: list) -> str:
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        return f"FAILED: {failed[0].name} did not complete ({failed[0].error})."
    if kind == "daily" and "daily" in records:
        return records["daily"]["verdict"]
    found = findings(kind, records, runs)
    return f"{len(found)} findings; the largest: {found[0]['title']}" if found else "No findings."
