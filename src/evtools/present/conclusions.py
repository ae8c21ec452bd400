"""What each analysis concludes, in plain sentences built from its typed result (``evtools.present.results``).

The sentences are plain text (no markup), written once and shown by every medium: the terminal, the report pages
and the Slack update. A sentence states only what the values say: "matched a full recomputation after every run"
only when no run differed; an unknown value is a dash with a note saying why it is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from evtools.core import fmt
from evtools.present.results import Daily, History, Layout, Profile, Quality, Reconciliation, Replay

NAMES = {
    "drift": "Drift",
    "duplicates": "Duplicates",
    "corrections": "Corrections",
    "late": "Late rows",
    "residual": "Residual",
}


@dataclass(frozen=True)
class Conclusion:
    """A page's conclusion: one headline sentence, the sentences behind it, notes on unknown values."""

    headline: str
    points: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@singledispatch
def conclusion(result) -> Conclusion:
    raise TypeError(f"no conclusion for {type(result).__name__}")


@conclusion.register
def _(q: Quality) -> Conclusion:
    extra = q.duplicate_excess + q.correction_excess
    headline = (
        f"{fmt.count(extra)} of {fmt.count(q.total_events)} events in fact_events ({fmt.share(q.share(extra), 2)}) "
        "are extra copies or superseded versions"
    )
    notes = []
    if q.late_unknown:
        notes.append(f"Late rows: {q.late_unknown}.")
    if q.late_events:
        headline += (
            f", and {fmt.count(q.late_events)} events arrived after the dashboard had computed their date"
        )
    points = [duplicates(q), corrections(q)]
    if q.replayed_loads is None:
        notes.append("Replayed loads are not measured: fact_events has no load_id column.")
    points.append(late(q))
    points.append(lookback(q))
    return Conclusion(headline + ".", tuple(p for p in points if p), tuple(notes))


def duplicates(q: Quality) -> str:
    text = (
        f"Duplicates: {fmt.count(q.duplicate_rows)} repeated rows add {fmt.count(q.duplicate_excess)} events "
        f"({fmt.share(q.share(q.duplicate_excess), 2)}) on {fmt.count(q.keys_with_duplicates)} of "
        f"{fmt.count(q.keys)} company-days"
    )
    if q.replayed_loads and q.replayed_events is not None and q.duplicate_excess:
        text += (
            f"; {fmt.count(q.replayed_loads)} replayed loads account for "
            f"{fmt.share(q.replayed_events / q.duplicate_excess)} of them"
        )
    return text + "."


def corrections(q: Quality) -> str:
    if not q.superseded_versions:
        return "Corrections: no event_id has more than one version."
    return (
        f"Corrections: {fmt.count(q.superseded_versions)} superseded versions add {fmt.count(q.correction_excess)} "
        f"events ({fmt.share(q.share(q.correction_excess), 2)}). SELECT DISTINCT removes the duplicates but keeps "
        "every superseded version, so by definition it still over-counts by exactly these "
        f"{fmt.count(q.correction_excess)} events; only the latest version per event_id is exact."
    )


def late(q: Quality) -> str:
    if q.late_events is None:
        return f"Late rows: {fmt.DASH} (unknown, see the note)."
    if not q.late_rows:
        return "Late rows: none arrived after the dashboard computed their date."
    return (
        f"Late rows: {fmt.count(q.late_rows)} rows ({fmt.count(q.late_events)} events) arrived after the dashboard "
        "had computed their date, so it never counted them."
    )


def lookback(q: Quality) -> str:
    text = (
        f"A {q.lookback_days}-day lookback misses {fmt.count(q.lookback_missed_events)} events "
        f"({fmt.share(q.share(q.lookback_missed_events), 2)}): rows that arrived more than {q.lookback_days} days "
        f"after their date, which a daily run re-reading its date and the {q.lookback_days} before never sees."
    )
    if q.recommended_lookback_days is None:
        return (
            text
            + f" No lookback up to {fmt.count(q.max_lag_days)} days covers {fmt.share(q.coverage_target)}."
        )
    if q.recommended_lookback_days <= q.lookback_days:
        return text + f" {q.lookback_days} days already cover {fmt.share(q.coverage_target)} of events."
    return text + (
        f" Covering {fmt.share(q.coverage_target)} of events takes {q.recommended_lookback_days} days, re-reading "
        f"about {fmt.count(q.rows_reread_recommended)} rows per run instead of {fmt.count(q.rows_reread_configured)}; "
        f"the longest lag is {fmt.count(q.max_lag_days)} days."
    )


def late_figures(q: Quality) -> str | None:
    """Why the lookback's missed events and the late rows differ, when both are known."""
    if q.late_events is None or q.late_events == q.lookback_missed_events:
        return None
    if q.late_events > q.lookback_missed_events:
        return (
            f"The two late figures count different things: {fmt.count(q.late_events)} events arrived after the "
            f"dashboard's last computation of their date (however soon after), {fmt.count(q.lookback_missed_events)} "
            f"arrived more than {q.lookback_days} days after their date. A row up to {q.lookback_days} days late is "
            f"late for the dashboard but still inside a {q.lookback_days}-day lookback, which re-reads each run's "
            f"date and the {q.lookback_days} dates before it."
        )
    return (
        f"The two late figures count different things: {fmt.count(q.lookback_missed_events)} events arrived more "
        f"than {q.lookback_days} days after their date, but only {fmt.count(q.late_events)} after the dashboard's "
        "last computation of their date: the dashboard recomputes further back than the lookback."
    )


@conclusion.register
def _(r: Reconciliation) -> Conclusion:
    notes = ()
    if not r.keys_compared:
        return Conclusion(
            "No company-day could be compared: neither the dashboard nor the API has rows here."
        )
    if not r.mismatched:
        return Conclusion(f"The dashboard matches the API on all {fmt.count(r.keys_compared)} company-days.")
    headline = (
        f"The dashboard differs from the API on {fmt.count(r.mismatched)} of {fmt.count(r.keys_compared)} "
        f"company-days ({fmt.share(r.mismatched / r.keys_compared)}), by {fmt.count(r.abs_delta)} events in "
        f"absolute terms (net {fmt.signed(r.delta)})"
    )
    ranked = r.ranked
    if ranked:
        headline += f"; the largest part is {NAMES[ranked[0].name].lower()} ({fmt.share(ranked[0].share)})"
    points = [
        f"{NAMES[p.name]}: {fmt.count(p.abs)} events ({fmt.share(p.share)} of all parts), net {fmt.signed(p.net)}; "
        f"the largest part on {fmt.count(p.keys)} company-days."
        for p in ranked
    ]
    points += [
        f"{fmt.count(keys)} company-days match exactly once days are counted in {zone} instead of UTC."
        for zone, keys in r.timezone_keys
    ]
    if r.missing_in_dashboard or r.missing_in_api:
        points.append(
            f"{fmt.count(r.missing_in_dashboard)} company-days exist only in the API and "
            f"{fmt.count(r.missing_in_api)} only in the dashboard."
        )
    return Conclusion(headline + ".", tuple(points), notes)


@conclusion.register
def _(p: Profile) -> Conclusion:
    f = p.full
    reads = (
        f"{fmt.count(f.rows_scanned)} rows, {fmt.size(f.bytes_read)} from {fmt.count(f.files_read)} files in "
        f"{fmt.seconds(f.seconds)}"
    )
    headline = (
        f"The job scans all history on every run: {reads}."
        if p.has("full_scan")
        else f"The job's query reads {reads}; it filters on date, so it does not scan all history."
    )
    points = []
    w = p.window
    if w is not None and f.bytes_read:
        text = (
            f"Restricted to the incremental window it reads {fmt.size(w.bytes_read)} "
            f"({fmt.share((w.bytes_read or 0) / f.bytes_read)} of the full job) from {fmt.count(w.row_groups_scanned)} "
            f"of {fmt.count(w.row_groups_total)} row groups"
        )
        if w.files_read and w.files_read == f.files_read:
            text += (
                f", but still opens all {fmt.count(w.files_read)} files: pruning uses each file's statistics, and "
                "every footer must be read to use them"
            )
        points.append(text + ".")
    points += [f"{flag.name.replace('_', ' ').capitalize()}: {flag.evidence}." for flag in p.flags]
    return Conclusion(headline, tuple(points))


@conclusion.register
def _(lay: Layout) -> Conclusion:
    headline = (
        f"Partitioned by date, the window of the last {lay.window_days} dates reads {fmt.size(lay.window_bytes_after)} instead of "
        f"the {fmt.size(lay.full_bytes_before)} the full job reads today ({fmt.share(lay.window_share_after, 2)}), "
        f"{fmt.ratio(lay.window_to_ideal)} what its rows alone need."
    )
    points = [
        f"The same window reads {fmt.size(lay.window_bytes_before)} as the data lies today (in ingestion order) and "
        f"{fmt.size(lay.window_bytes_after)} partitioned by date; it runs in {fmt.seconds(lay.window_seconds_after)} "
        f"instead of {fmt.seconds(lay.window_seconds_before)}."
    ]
    if lay.full_slower_after:
        points.append(
            f"The full job is {fmt.share(lay.full_seconds_after / lay.full_seconds_before - 1, 0)} slower on the "
            f"date-partitioned copy ({fmt.seconds(lay.full_seconds_after)} against "
            f"{fmt.seconds(lay.full_seconds_before)}): it still reads every row and opens "
            f"{fmt.count(lay.full_files_after)} files, one per date. Partitioning pays off for the queries that "
            "filter on date, which is what the daily job becomes once it is incremental."
        )
    elif lay.full_seconds_after is not None:
        points.append(
            f"The full job takes {fmt.seconds(lay.full_seconds_after)} on the partitioned copy "
            f"(against {fmt.seconds(lay.full_seconds_before)}): it still reads every row."
        )
    return Conclusion(headline, tuple(points))


@conclusion.register
def _(r: Replay) -> Conclusion:
    span = f"{r.days} replayed daily runs" + (
        f" ({fmt.date(r.first_day)} to {fmt.date(r.last_day)})" if r.first_day else ""
    )
    notes = []
    if r.exact:
        headline = f"Over {span} the exact refresh equalled a full recomputation after every run"
    elif r.verify_differences is None:
        headline = f"Over {span} the exact refresh was not compared with a full recomputation"
    else:
        headline = (
            f"Over {span} the exact refresh differed from a full recomputation on "
            f"{fmt.count(r.verify_differences)} company-days: do not rely on it before that is explained"
        )
    if r.lookback_missed_events:
        headline += (
            f"; the {r.lookback_days}-day fixed-window job ended {fmt.count(r.lookback_missed_events)} events short "
            f"({fmt.share(r.lookback_missed_share, 2)}) on {fmt.count(r.lookback_differing_keys)} company-days"
        )
    points = [
        f"Median run: {fmt.seconds(r.median_touched_seconds)} for the exact refresh against "
        f"{fmt.seconds(r.median_full_seconds)} for a full rebuild.",
        f"The fixed-window job's shortfall is what its table lacks against a full recomputation after the last "
        f"replayed run: the latest versions of rows that arrived more than {r.lookback_days} days after their date "
        f"(each run re-reads its date and the {r.lookback_days} before), net, accumulated over {r.days} runs.",
    ]
    if r.median_touched_seconds is None:
        notes.append("No incremental run was replayed, so its median time is unknown.")
    return Conclusion(headline + ".", tuple(points), tuple(notes))


@conclusion.register
def _(h: History) -> Conclusion:
    if not h.runs:
        return Conclusion(NO_RUNS)
    slower = [f for f in h.findings if f.kind in CODE_FINDINGS]
    headline = (
        f"{fmt.count(len(slower))} of {fmt.count(h.jobs)} jobs got slower for a reason other than their data; the "
        f"largest: {slower[0].title}."
        if slower
        else f"None of the {fmt.count(h.jobs)} jobs got slower than its data explains."
    )
    points = history_lines(h) + [f"{f.title}. {f.text} Fix: {f.fix}" for f in h.findings]
    return Conclusion(headline, tuple(points))


NO_RUNS = "No runs recorded yet: every evtools command run with this config adds one."
CODE_FINDINGS = ("change point", "n+1", "growth")  # runs_text's kinds whose cause is not the data


def history_lines(h: History) -> list[str]:
    """What was read and the verdicts, two sentences (the terminal's header of ``evtools runs`` too)."""
    if not h.runs:
        return [NO_RUNS]
    read = (
        f"Read {_n(h.runs, 'run')} of {_n(h.jobs, 'job')} from {h.where or fmt.DASH} ({h.log_format or fmt.DASH} "
        f"log), started {fmt.date(h.first_started)} to {fmt.date(h.last_started)}"
        + (f"; {fmt.count(h.untimed)} rows that never started were left out." if h.untimed else ".")
    )
    verdicts = (
        "Verdicts: "
        + ", ".join(f"{n} {v}" for v, n in h.verdicts if n)
        + f"; {h.n_plus_one} N+1; {_n(h.change_points, 'change point')}; {_n(h.timeouts, 'timeout')} and "
        f"{_n(h.failed_runs, 'other failed run')}."
    )
    return [read, verdicts]


def _n(n: int, what: str) -> str:
    return f"{fmt.count(n)} {what}{'' if n == 1 else 's'}"


@conclusion.register
def _(d: Daily) -> Conclusion:
    return Conclusion(verdict(d), tuple(reasons(d)) + (refreshed(d), *ingestion(d)))


def verdict(d: Daily) -> str:
    """OK or ATTENTION for the day, and why, in one sentence."""
    w = d.window
    if d.ok:
        return (
            f"OK for {fmt.date(d.day)}: all {d.expectations} expectations pass and the dashboard matches the API on "
            f"all {fmt.count(w.keys_compared)} company-days of the last {d.window_days} dates."
        )
    why = []
    if d.failures:
        why.append(
            f"{d.failed} of {d.expectations} expectations failed ("
            + ", ".join(f"{f.column or f.expectation}" for f in d.failures)
            + ")"
        )
    if not w.keys_compared:
        why.append(f"no company-day of the last {d.window_days} dates could be compared with the API")
    elif w.mismatched:
        why.append(
            f"the dashboard differs from the API on {fmt.count(w.mismatched)} of {fmt.count(w.keys_compared)} "
            f"company-days of the last {d.window_days} dates (net {fmt.signed(w.delta)} events)"
        )
    return f"ATTENTION for {fmt.date(d.day)}: " + "; ".join(why) + "."


def reasons(d: Daily) -> list[str]:
    """One sentence per failed expectation: observed against the threshold, what it means, what to do."""
    return [
        f"{f.suite} {f.column}: observed {f.observed}, expected {f.threshold}. {f.meaning} {f.action}".strip()
        for f in d.failures
    ]


def refreshed(d: Daily) -> str:
    text = (
        f"The refresh (full) rebuilt the aggregate from {fmt.count(d.refresh_rows)} latest versions in "
        f"{fmt.seconds(d.refresh_seconds)}"
        if d.refresh_mode == "full"
        else f"The refresh ({d.refresh_mode}) read {fmt.count(d.refresh_rows)} new rows in {fmt.seconds(d.refresh_seconds)}"
    )
    if d.dropped_by_fixed_window:
        text += (
            f"; a {d.lookback_days}-day fixed-window job would have dropped {fmt.count(d.dropped_by_fixed_window)} "
            "events of them"
        )
    return text + "."


def ingestion(d: Daily) -> list[str]:
    i = d.ingestion
    if not i.rows:
        return [f"Nothing was ingested on {fmt.date(d.day)}."]
    return [
        f"On {fmt.date(d.day)} {fmt.count(i.rows)} rows ({fmt.count(i.events)} events) were ingested, for "
        f"{fmt.count(i.dates_touched)} dates.",
        f"{fmt.count(i.duplicate_rows)} of them repeat rows already there ({fmt.count(i.duplicate_events)} events); "
        f"{fmt.count(i.correction_rows)} are new versions of events ingested before.",
        f"{fmt.count(i.rows_older_than_lookback)} rows ({fmt.count(i.events_older_than_lookback)} events) are for "
        f"dates more than {d.lookback_days} days back: a {d.lookback_days}-day incremental job would never count them.",
    ]


def definitions(module) -> tuple[str, ...]:
    """The definitions a module's docstring states (its bullet list), so reports quote them verbatim."""
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
    return tuple(b.replace("``", "") for b in bullets)
