"""The executive summary of a report run, built from the typed results its notebooks recorded (never recomputed).

``summarise(kind, date, records, pages)`` returns a ``Summary``: the period and sources, the verdict in two
sentences, what is wrong (correctness, ranked by events misstated on the dashboard; then, when a job log was
analysed, what is wrong in its runs, ranked by the share of run time each fix removes), what it costs (performance,
ranked by time, then bytes), what to change (three fixes, each with its measured effect, what to apply and the
command that verifies it), and how the late-data figures of different pages relate. Every medium renders it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from evtools.core import fmt
from evtools.engines.dialects import latest_job
from evtools.present import runs_text
from evtools.present.conclusions import NAMES, Conclusion, conclusion, late_figures, verdict
from evtools.present.results import JobFinding, Page, Records, Source

PAGES = {  # which page holds the evidence of each result
    "profile": "01_query_plan",
    "layout": "02_scan_volume",
    "quality": "03_duplicates_late_appends",
    "reconcile": "04_reconciliation",
    "refresh": "05_incremental_refresh",
    "history": "06_run_history",
    "daily": "daily_report",
}
TITLES = {
    "01_query_plan": "Where the daily job spends its time",
    "02_scan_volume": "What re-laying the data saves",
    "03_duplicates_late_appends": "Duplicates, corrections, replays and late rows",
    "04_reconciliation": "Why the dashboard disagrees with the API",
    "05_incremental_refresh": "The fix: an exact incremental aggregate",
    "06_run_history": "Run history",
    "daily_report": "Daily report",
}
WRONG = {
    "late": "Late rows never reach the dashboard",
    "duplicates": "Duplicate rows are counted more than once",
    "corrections": "Corrections are added to the old value instead of replacing it",
    "residual": "The warehouse and the API disagree on what happened",
    "drift": "The dashboard is not what its own query gave",
}
CONFIG = "evtools.toml"
WAREHOUSES = (("Snowflake", "snowflake"), ("BigQuery", "bigquery"), ("Databricks", "databricks"))


@dataclass(frozen=True)
class Wrong:
    """A correctness problem: how many events it misstates on the dashboard, on how many company-days."""

    title: str
    events: int
    net: int | None
    keys: int | None
    detail: str
    page: str | None


@dataclass(frozen=True)
class Cost:
    """A performance cost: time and bytes per run (None where not measured)."""

    title: str
    seconds: float | None
    bytes: float | None
    detail: str
    page: str | None


@dataclass(frozen=True)
class Fix:
    """A change to make: its measured effects, what to apply (label, text) and the command that verifies it."""

    title: str
    effects: tuple[str, ...]
    apply: tuple[tuple[str, str], ...]
    verify: str
    verify_says: str
    page: str | None


@dataclass(frozen=True)
class Figure:
    """One of several related figures, with what exactly it counts."""

    label: str
    value: str
    counts: str
    page: str | None


@dataclass(frozen=True)
class Summary:
    kind: str
    date: dt.date
    status: str
    failed: str | None
    period: str
    compared: str | None
    sources: tuple[Source, ...]
    verdict: tuple[str, ...]
    wrong: tuple[Wrong, ...]
    job_runs: tuple[JobFinding, ...]  # what is wrong in the job log's runs (runs_text.report_findings)
    costs: tuple[Cost, ...]
    fixes: tuple[Fix, ...]
    figures: tuple[Figure, ...]
    figures_note: tuple[str, ...]
    pages: tuple[Page, ...]
    records: Records = field(repr=False, default_factory=Records)
    job_runs_page: str | None = None  # the page with the job runs' evidence

    @property
    def headline(self) -> str:
        """One line for the list of runs and the terminal."""
        stopped = next((p for p in self.pages if p.status != "ok"), None)
        if stopped is not None:
            return f"failed: {stopped.error}"
        return self.verdict[0] if self.verdict else "no findings"

    def conclusion(self, name: str) -> Conclusion | None:
        result = getattr(self.records, name, None)
        return conclusion(result) if result is not None else None


def pages(runs) -> list[Page]:
    """The typed pages of a run from its notebook runs (name, status, seconds, error)."""
    record = {v: k for k, v in PAGES.items()}
    return [
        Page(
            r.name,
            TITLES.get(r.name, r.name),
            f"{r.name}.html",
            r.status,
            r.seconds,
            r.error,
            record.get(r.name),
            r.step,
        )
        for r in runs
    ]


def from_run(run: dict) -> Summary:
    """The summary of a run as written in its run.json."""
    pages_ = pages(
        [
            Page(
                n["name"], "", "", n.get("status", "ok"), float(n.get("seconds") or 0), n.get("error"), None,
                n.get("step"),
            )
            for n in run.get("notebooks", [])
        ]
    )
    return summarise(run["kind"], dt.date.fromisoformat(run["date"]), run.get("records") or {}, pages_)


def summarise(kind: str, date: dt.date, records: dict, pages: list[Page]) -> Summary:
    """The summary of a run from its notebooks' records (``name -> summary dict``) and its pages."""
    r = Records.from_summaries(records)
    done = {p.name for p in pages if p.status == "ok"}
    link = {k: (f"{v}.html" if v in done else None) for k, v in PAGES.items()}
    failed = next((p.explanation for p in pages if p.status != "ok"), None)
    q, rec = r.quality, r.reconcile
    unmeasured = f"{fmt.DASH} (not measured: the duplicates page recorded no result)"
    period = fmt.period(q.first_date, q.last_date) if q else unmeasured
    compared = fmt.period(rec.first_date, rec.last_date) if rec else None
    if r.daily is not None:
        period = fmt.date(r.daily.day)
        compared = fmt.period(r.daily.window.first_date, r.daily.window.last_date)
    figures, note = related_figures(r, link)
    return Summary(
        kind,
        date,
        "failed" if failed else "ok",
        failed,
        period,
        compared,
        r.sources,
        (verdict(r.daily),) if r.daily is not None else investigation_verdict(r),
        wrong(r, link),
        runs_text.report_findings(r.history),
        costs(r, link),
        fixes(r, link),
        figures,
        note,
        tuple(pages),
        r,
        link["history"],
    )


def investigation_verdict(r: Records) -> tuple[str, ...]:
    """Two sentences: what the dashboard gets wrong, then what the job costs and what fixes it; a third on the job
    runs when a job log was analysed."""
    out = []
    rec, q = r.reconcile, r.quality
    if rec is not None and rec.keys_compared:
        if not rec.mismatched:
            out.append(f"The dashboard matches the API on all {fmt.count(rec.keys_compared)} company-days.")
        else:
            top = rec.ranked[:2]
            why = " and ".join(f"{NAMES[p.name].lower()} ({fmt.share(p.share, 0)})" for p in top)
            out.append(
                f"The dashboard misstates {fmt.count(rec.mismatched)} of {fmt.count(rec.keys_compared)} company-days "
                f"({fmt.share(rec.mismatched / rec.keys_compared, 0)}) by {fmt.count(rec.abs_delta)} events, "
                f"mostly through {why}."
            )
    elif q is not None:
        out.append(
            f"{fmt.count(q.duplicate_excess + q.correction_excess)} events in fact_events are extra copies or "
            "superseded versions that a plain SUM counts."
        )
    cost = []
    if r.profile is not None and r.profile.has("full_scan"):
        cost.append(f"The job re-reads all {fmt.size(r.profile.full.bytes_read)} of history on every run")
    if r.layout is not None:
        cost.append(
            f"partitioned by date its window of the last {r.layout.window_days} dates would read "
            f"{fmt.share(r.layout.window_share_after, 1)} of that"
        )
    if r.refresh is not None and r.refresh.exact:
        cost.append("an exact incremental refresh keeps the aggregate equal to a full recomputation")
    if cost:
        text = "; ".join(cost)
        out.append(text[0].upper() + text[1:] + ".")
    if r.history is not None and not r.history.own_log:
        out.append(conclusion(r.history).headline)
    return tuple(out)


def wrong(r: Records, link: dict) -> tuple[Wrong, ...]:
    """Correctness problems ranked by the events they misstate on the dashboard (quality's figures otherwise)."""
    q, rec = r.quality, r.reconcile
    detail = {
        "late": _late_detail(r),
        "duplicates": _duplicates_detail(q),
        "corrections": (
            f"{fmt.count(q.superseded_versions)} superseded versions add {fmt.count(q.correction_excess)} events "
            "to fact_events; SELECT DISTINCT keeps every one of them."
            if q
            else ""
        ),
        "residual": _residual_detail(rec),
        "drift": "The stored dashboard value differs from what a plain SUM gave when it was computed.",
    }
    page = {"late": link["quality"] or link["reconcile"], "duplicates": link["quality"]}
    if rec is not None and rec.keys_compared:
        items = [
            Wrong(WRONG[p.name], p.abs, p.net, p.keys, detail[p.name], link["reconcile"] or page.get(p.name))
            for p in rec.ranked
        ]
    elif q is not None:
        found = {
            "duplicates": q.duplicate_excess,
            "corrections": q.correction_excess,
            "late": q.late_events or 0,
        }
        items = [Wrong(WRONG[k], v, None, None, detail[k], link["quality"]) for k, v in found.items() if v]
    else:
        return ()
    return tuple(sorted(items, key=lambda w: -w.events))


def _late_detail(r: Records) -> str:
    q = r.quality
    if q is None or q.late_events is None:
        return "Rows that arrive after the dashboard computed their date."
    return (
        f"{fmt.count(q.late_rows)} rows ({fmt.count(q.late_events)} events) arrived after the dashboard computed "
        f"their date; a {q.lookback_days}-day lookback misses {fmt.count(q.lookback_missed_events)} events."
    )


def _duplicates_detail(q) -> str:
    if q is None:
        return "Rows repeating an event_id with the same value."
    text = f"{fmt.count(q.duplicate_rows)} repeated rows add {fmt.count(q.duplicate_excess)} events to fact_events"
    if q.replayed_loads:
        text += f"; {fmt.count(q.replayed_loads)} replayed loads"
    return text + "."


def _residual_detail(rec) -> str:
    if rec is None:
        return ""
    text = "Records the warehouse lacks or the API restated"
    if rec.timezone_keys:
        text += "; " + ", ".join(
            f"{fmt.count(k)} company-days match once days are counted in {z}" for z, k in rec.timezone_keys
        )
    return text + "."


def costs(r: Records, link: dict) -> tuple[Cost, ...]:
    """Performance costs ranked by time per run, then bytes (unmeasured last)."""
    items = []
    p, rep, q = r.profile, r.refresh, r.quality
    if p is not None:
        items.append(
            Cost(
                "The job reads all history on every run" if p.has("full_scan") else "The job's query",
                p.full.seconds,
                p.full.bytes_read,
                f"{fmt.count(p.full.rows_scanned)} rows from {fmt.count(p.full.files_read)} files; "
                f"{fmt.count(p.full.row_groups_scanned)} of {fmt.count(p.full.row_groups_total)} row groups.",
                link["profile"],
            )
        )
        w = p.window
        if w is not None and w.files_read and w.files_read == p.full.files_read:
            items.append(
                Cost(
                    "Even a date window opens every file",
                    w.seconds,
                    w.bytes_read,
                    f"The incremental window reads {fmt.count(w.row_groups_scanned)} of "
                    f"{fmt.count(w.row_groups_total)} row groups but opens all {fmt.count(w.files_read)} files to "
                    "read their statistics: the data lies in ingestion order.",
                    link["profile"],
                )
            )
    if rep is not None and rep.median_full_seconds is not None:
        items.append(
            Cost(
                "A full rebuild on every run",
                rep.median_full_seconds,
                None,
                f"Median full rebuild {fmt.seconds(rep.median_full_seconds)} against "
                f"{fmt.seconds(rep.median_touched_seconds)} for an exact incremental run (replayed).",
                link["refresh"],
            )
        )
    if q is not None and q.recommended_lookback_days and q.recommended_lookback_days > q.lookback_days:
        items.append(
            Cost(
                "A wider fixed window re-reads more rows",
                None,
                None,
                f"Covering {fmt.share(q.coverage_target)} of events with a fixed window takes "
                f"{q.recommended_lookback_days} days: {fmt.count(q.rows_reread_recommended)} rows per run instead of "
                f"{fmt.count(q.rows_reread_configured)}.",
                link["quality"],
            )
        )
    return tuple(sorted(items, key=lambda c: (-(c.seconds or -1), -(c.bytes or -1))))


def fixes(r: Records, link: dict) -> tuple[Fix, ...]:
    """The three changes, each with what it measurably changes."""
    out = []
    lay, rec, rep = r.layout, r.reconcile, r.refresh
    if lay is not None:
        effects = [
            f"The window of the last {lay.window_days} dates reads {fmt.size(lay.window_bytes_after)} instead of "
            f"{fmt.size(lay.full_bytes_before)} ({fmt.size(lay.full_bytes_before - lay.window_bytes_after)} less per "
            f"run) in {fmt.seconds(lay.window_seconds_after)} instead of {fmt.seconds(lay.full_seconds_before)}."
        ]
        ddl = dict(lay.ddl)
        apply = tuple((k, ddl[k]) for k in ("snowflake", "bigquery", "databricks", "dbt") if k in ddl)
        out.append(
            Fix(
                "Partition fact_events by date and cluster it by company_id",
                tuple(effects),
                apply,
                f"evtools profile --config {CONFIG} --window-days {lay.window_days}",
                f"the window's scan reads {lay.window_days} date partitions, not every file",
                link["layout"],
            )
        )
    made_right = None
    if rec is not None and rec.keys_compared:
        parts = [rec.part("duplicates"), rec.part("corrections")]
        made_right = (
            f"Makes {fmt.count(sum(p.abs for p in parts))} misstated events right on "
            f"{fmt.count(sum(p.keys for p in parts))} company-days (duplicates and corrections)."
        )
    elif r.quality is not None:
        made_right = (
            f"Removes {fmt.count(r.quality.duplicate_excess + r.quality.correction_excess)} extra events from the "
            "totals (duplicates and corrections)."
        )
    out.append(
        Fix(
            "Count the latest version of each event_id, not every row",
            (made_right,) if made_right else (),
            tuple((f"the job's query ({name})", latest_job(dialect)) for name, dialect in WAREHOUSES),
            f"evtools reconcile --config {CONFIG}",
            "the duplicates and corrections parts are 0 on every company-day",
            link["reconcile"] or link["quality"],
        )
    )
    effects = []
    if rec is not None and rec.keys_compared and rec.part("late").abs:
        late = rec.part("late")
        effects.append(
            f"Makes {fmt.count(late.abs)} late events right on {fmt.count(late.keys)} company-days: rows are picked "
            "up on whatever date they land."
        )
    if rep is not None and rep.median_touched_seconds is not None:
        effects.append(
            f"A run takes {fmt.seconds(rep.median_touched_seconds)} against {fmt.seconds(rep.median_full_seconds)} "
            f"for a full rebuild (median of {rep.days} replayed days)"
            + (", equal to a full recomputation after every run." if rep.exact else ".")
        )
    out.append(
        Fix(
            "Refresh from what was ingested since the last run, not from a fixed window of dates",
            tuple(effects),
            (("schedule (daily)", f"evtools --no-progress refresh --config {CONFIG}"),),
            f"evtools refresh --verify --config {CONFIG}",
            "exit code 0: the aggregate equals a full recomputation",
            link["refresh"],
        )
    )
    return tuple(out)


def related_figures(r: Records, link: dict) -> tuple[tuple[Figure, ...], tuple[str, ...]]:
    """The late-data figures of different pages side by side, each with what it counts, and why they differ."""
    q, rec, rep = r.quality, r.reconcile, r.refresh
    figures = []
    if q is not None:
        figures.append(
            Figure(
                f"Missed by a {q.lookback_days}-day lookback",
                fmt.count(q.lookback_missed_events),
                f"events in rows that arrived more than {q.lookback_days} days after their date, over all of "
                f"fact_events, copies and old versions included: what a daily run re-reading its date and the "
                f"{q.lookback_days} before never sees.",
                link["quality"],
            )
        )
        figures.append(
            Figure(
                "Late rows",
                fmt.count(q.late_events),
                "events in rows that arrived after the dashboard computed their date, however soon after: what "
                "the dashboard never saw, copies and old versions included.",
                link["quality"],
            )
        )
    if rec is not None and rec.keys_compared:
        late = rec.part("late")
        figures.append(
            Figure(
                "Late part of the dashboard's error",
                fmt.signed(late.net),
                "the latest versions as of the dashboard's computation minus the latest versions now: what arrived "
                "or was corrected after it, net over all company-days (late copies of rows already there change "
                "nothing).",
                link["reconcile"],
            )
        )
    if rep is not None and rep.lookback_missed_events is not None:
        figures.append(
            Figure(
                f"The replayed {rep.lookback_days}-day job's shortfall",
                fmt.count(rep.lookback_missed_events),
                f"what a simulated {rep.lookback_days}-day job's table lacks against a full recomputation after "
                f"{rep.days} daily runs ({fmt.date(rep.first_day)} to {fmt.date(rep.last_day)}): latest versions "
                f"only, net, of the rows that arrived more than {rep.lookback_days} days after their date during "
                "the replay.",
                link["refresh"],
            )
        )
    notes = []
    if q is not None:
        why = late_figures(q)
        if why:
            notes.append(why)
        if q.late_unknown:
            notes.append(f"Late rows: {q.late_unknown}.")
    if rep is not None and q is not None and rep.lookback_missed_events is not None:
        notes.append(replay_figures(q, rep))
    return (tuple(figures) if len(figures) > 1 else ()), tuple(notes)


def replay_figures(q, rep) -> str:
    """How the replayed job's shortfall relates to the lookback's missed events: the same rule (rows whose arrival
    lag exceeds the lookback), over fewer runs and counted on latest versions, net."""
    same = rep.lookback_days == q.lookback_days
    smaller = same and rep.lookback_missed_events < q.lookback_missed_events
    return (
        f"The replayed job's shortfall ({fmt.count(rep.lookback_missed_events)}) and the lookback's missed events "
        f"({fmt.count(q.lookback_missed_events)}) "
        + (
            f"follow the same rule, rows more than {q.lookback_days} days late, "
            if same
            else f"use different lookbacks ({rep.lookback_days} and {q.lookback_days} days), "
        )
        + ("but the shortfall is smaller: it " if smaller else "but the shortfall ")
        + f"covers only the rows ingested during the {rep.days} replayed runs (the first run rebuilt everything "
        "before them in full) and counts latest versions, net: a late copy of a row already counted costs nothing, "
        "a late correction only its difference."
    )
