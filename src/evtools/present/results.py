"""Typed results: what each analysis found, as the terminal, the HTML reports and the Slack update read it.

Each analysis writes its summary as JSON (``summary.json``, the report's ``run.json``); ``from_summary`` reads one
back into a frozen dataclass, so every medium renders the same object. A figure the analysis could not measure
(no dashboard computation time, no load_id, ...) is None, never a made-up zero.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, fields

log = logging.getLogger(__name__)
COMPONENTS = ("drift", "duplicates", "corrections", "late", "residual")


def _date(v) -> dt.date | None:
    if v is None or v == "" or v != v:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _int(v) -> int | None:
    return None if v is None or v != v else int(v)


def _float(v) -> float | None:
    return None if v is None or v != v else float(v)


def _share(part, total) -> float | None:
    return None if part is None or not total else part / total


@dataclass(frozen=True)
class Key:
    """One company/date key of a reconciliation, with its largest cause."""

    company_id: str
    date: dt.date | None
    dashboard_events: int | None
    api_events: int | None
    delta: int | None
    cause: str

    @classmethod
    def from_summary(cls, d: dict) -> Key:
        return cls(
            str(d["company_id"]),
            _date(d.get("date")),
            _int(d.get("dashboard_events")),
            _int(d.get("api_events")),
            _int(d.get("delta")),
            str(d.get("cause") or ""),
        )


@dataclass(frozen=True)
class Quality:
    """``evtools quality``: duplicates, replays, corrections, late rows and the lookback (definitions in quality.py)."""

    first_date: dt.date | None
    last_date: dt.date | None
    rows: int
    keys: int
    companies: int | None
    total_events: int
    duplicate_rows: int
    duplicate_excess: int
    keys_with_duplicates: int
    replayed_loads: int | None  # None: not measured (no load_id)
    replayed_events: int | None
    correction_excess: int
    superseded_versions: int
    late_rows: int | None  # None: unknown (no computation time), see late_unknown
    late_events: int | None
    late_unknown: str | None  # why late rows are unknown, for all keys or for some
    lookback_days: int
    lookback_missed_rows: int
    lookback_missed_events: int
    coverage_target: float
    recommended_lookback_days: int | None
    max_lag_days: int | None
    rows_reread_configured: int | None
    rows_reread_recommended: int | None

    @classmethod
    def from_summary(cls, s: dict) -> Quality:
        return cls(
            _date(s.get("first_date")),
            _date(s.get("last_date")),
            int(s["rows"]),
            int(s["keys"]),
            _int(s.get("companies")),
            int(s["total_events"]),
            int(s["duplicate_rows"]),
            int(s["duplicate_excess"]),
            int(s.get("keys_with_duplicates") or 0),
            _int(s.get("replayed_loads")) if s.get("replays_measured", True) else None,
            _int(s.get("replayed_events")) if s.get("replays_measured", True) else None,
            int(s["correction_excess"]),
            int(s["superseded_versions"]),
            _int(s.get("late_rows")),
            _int(s.get("late_events")),
            s.get("late_unknown_reason") or None,
            int(s["configured_lookback_days"]),
            int(s["configured_lookback_missed_rows"]),
            int(s["configured_lookback_missed_events"]),
            float(s["coverage_target"]),
            _int(s.get("recommended_lookback_days")),
            _int(s.get("max_lag_days")),
            _int(s.get("rows_reread_per_run_configured")),
            _int(s.get("rows_reread_per_run_recommended")),
        )

    def share(self, events: int | None) -> float | None:
        """``events`` as a share of all events in fact_events."""
        return _share(events, self.total_events)


@dataclass(frozen=True)
class Part:
    """One component of the reconciliation waterfall, summed over the compared keys."""

    name: str
    net: int
    abs: int
    share: float  # of the sum of |component| over all components
    keys: int  # keys where it is the largest component (the cause)


@dataclass(frozen=True)
class Reconciliation:
    """``evtools reconcile``: dashboard vs API per key, each difference split into its parts (see reconcile.py)."""

    first_date: dt.date | None
    last_date: dt.date | None
    keys_compared: int
    matched: int
    mismatched: int
    missing_in_dashboard: int
    missing_in_api: int
    dashboard_events: int | None
    api_events: int | None
    delta: int
    abs_delta: int
    parts: tuple[Part, ...]
    timezone_keys: tuple[tuple[str, int], ...]
    worst: tuple[Key, ...]

    @classmethod
    def from_summary(cls, s: dict) -> Reconciliation:
        causes = s.get("keys_by_cause") or {}
        parts = tuple(
            Part(
                c,
                int((s.get("totals") or {}).get(c, 0)),
                int((s.get("abs_totals") or {}).get(c, 0)),
                float((s.get("share_of_abs_delta") or {}).get(c, 0.0)),
                int(causes.get(c, 0)) + (int(causes.get("timezone", 0)) if c == "residual" else 0),
            )
            for c in COMPONENTS
        )
        return cls(
            _date(s.get("first_date")),
            _date(s.get("last_date")),
            int(s["keys_compared"]),
            int(s.get("matched", s["keys_compared"] - s["mismatched"])),
            int(s["mismatched"]),
            int(s.get("missing_in_dashboard", 0)),
            int(s.get("missing_in_api", 0)),
            _int(s.get("dashboard_events")),
            _int(s.get("api_events")),
            int(s["delta"]),
            int(s["abs_delta"]),
            parts,
            tuple((str(z), int(k)) for z, k in (s.get("timezone_zones") or {}).items()),
            tuple(Key.from_summary(w) for w in s.get("worst_keys") or []),
        )

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    @property
    def ranked(self) -> tuple[Part, ...]:
        """The parts that misstate something, largest |part| first."""
        return tuple(sorted((p for p in self.parts if p.abs), key=lambda p: -p.abs))

    @property
    def timezone_total(self) -> int:
        return sum(k for _, k in self.timezone_keys)


@dataclass(frozen=True)
class Scan:
    """What one profiled query did: time, bytes, rows, row groups and files."""

    seconds: float | None
    bytes_read: int | None
    rows_scanned: int | None
    row_groups_scanned: int | None
    row_groups_total: int | None
    files_read: int | None

    @classmethod
    def from_summary(cls, t: dict) -> Scan:
        return cls(
            _float(t.get("seconds")),
            _int(t.get("bytes_read")),
            _int(t.get("rows_scanned")),
            _int(t.get("row_groups_scanned")),
            _int(t.get("row_groups_total")),
            _int(t.get("files_read")),
        )


@dataclass(frozen=True)
class Flag:
    name: str
    evidence: str


@dataclass(frozen=True)
class Profile:
    """``evtools profile``: the job's query and its incremental window under DuckDB's profiler (see profiling.py)."""

    full: Scan
    window: Scan | None
    flags: tuple[Flag, ...]

    @classmethod
    def from_summary(cls, s: dict) -> Profile:
        return cls(
            Scan.from_summary(s["full"]),
            Scan.from_summary(s["window"]) if s.get("window") else None,
            tuple(Flag(f["flag"], f["evidence"]) for f in s.get("flags") or []),
        )

    def has(self, flag: str) -> bool:
        return any(f.name == flag for f in self.flags)


@dataclass(frozen=True)
class Layout:
    """``evtools layout``: what each query reads before and after re-laying the data (see layout.py)."""

    window_days: int
    after_layout: str
    full_bytes_before: float
    full_seconds_before: float
    full_files_before: int | None
    full_bytes_after: float | None
    full_seconds_after: float | None
    full_files_after: int | None
    window_bytes_before: float
    window_bytes_after: float
    window_seconds_before: float | None
    window_seconds_after: float | None
    window_share_after: float
    window_to_ideal: float
    ddl: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_summary(cls, s: dict) -> Layout:
        by = s.get("by_layout") or {}
        after = s.get("after_layout", "by_date")

        def get(layout, query, key):
            return (by.get(layout) or {}).get(query, {}).get(key)

        return cls(
            int(s["window_days"]),
            after,
            float(s["full_bytes_before"]),
            float(s["full_seconds_before"]),
            _int(get("before", "full", "files_read")),
            _float(get(after, "full", "bytes_read")),
            _float(get(after, "full", "median_seconds")),
            _int(get(after, "full", "files_read")),
            float(s["window_bytes_before"]),
            float(s["window_bytes_after"]),
            _float(get("before", "window", "median_seconds")),
            _float(s.get("window_seconds_after")),
            float(s["window_share_after"]),
            float(s["window_to_ideal"]),
            tuple((str(k), str(v)) for k, v in (s.get("ddl") or {}).items()),
        )

    @property
    def full_slower_after(self) -> bool:
        """The re-laid data makes the full job slower (it opens one file per date and still reads every row)."""
        return self.full_seconds_after is not None and self.full_seconds_after > self.full_seconds_before


@dataclass(frozen=True)
class Replay:
    """The day-by-day replay of the exact refresh against the fixed-window job (see refresh.py)."""

    days: int
    first_day: dt.date | None
    last_day: dt.date | None
    lookback_days: int
    verify_differences: int | None
    lookback_missed_events: int | None
    lookback_missed_share: float | None
    lookback_differing_keys: int | None
    median_touched_seconds: float | None
    median_full_seconds: float | None

    @classmethod
    def from_summary(cls, s: dict) -> Replay:
        return cls(
            int(s["days"]),
            _date(s.get("first_day")),
            _date(s.get("last_day")),
            int(s["lookback_days"]),
            _int(s.get("verify_differences")),
            _int(s.get("lookback_missed_events")),
            _float(s.get("lookback_missed_share")),
            _int(s.get("lookback_differing_keys")),
            _float(s.get("median_touched_seconds")),
            _float(s.get("median_full_seconds")),
        )

    @property
    def exact(self) -> bool:
        """The exact refresh equalled a full recomputation after every replayed run."""
        return self.verify_differences == 0 and self.days > 0


@dataclass(frozen=True)
class JobFinding:
    """One finding of the run-history investigation (``runs_text``): what happened to a job, the figures it rests
    on, the fix, and ``impact``: the share of the latest runs' time the fix would remove (0 where not known)."""

    kind: str
    job: str
    title: str
    text: str
    fix: str
    impact: float

    @classmethod
    def from_summary(cls, f: dict) -> JobFinding:
        return cls(
            str(f.get("kind") or ""),
            str(f.get("job") or ""),
            str(f["title"]),
            str(f.get("text") or ""),
            str(f.get("fix") or ""),
            float(f.get("impact") or 0.0),
        )


@dataclass(frozen=True)
class History:
    """The run-history investigation of a job log (see runs.py): what was read, the verdict counts per job, and the
    findings, largest impact first."""

    log_format: str | None  # generic, dbt, airflow or evtools (evtools' own run log)
    where: str | None
    runs: int
    jobs: int
    first_started: dt.date | None
    last_started: dt.date | None
    untimed: int  # rows of the log that never started, left out
    verdicts: tuple[tuple[str, int], ...]
    n_plus_one: int
    change_points: int
    slow_runs: int
    failed_runs: int
    timeouts: int
    findings: tuple[JobFinding, ...] = ()

    @classmethod
    def from_summary(cls, s: dict) -> History:
        source = s.get("source") or {}
        return cls(
            source.get("format"),
            source.get("where"),
            int(s.get("runs") or 0),
            int(s.get("jobs") or 0),
            _date(s.get("first_started")),
            _date(s.get("last_started")),
            int(source.get("untimed") or 0),
            tuple((str(v), int(n)) for v, n in (s.get("verdicts") or {}).items()),
            int(s.get("n_plus_one") or 0),
            int(s.get("change_points") or 0),
            int(s.get("slow_runs") or 0),
            int(s.get("failed_runs") or 0),
            int(s.get("timeouts") or 0),
            tuple(JobFinding.from_summary(f) for f in s.get("findings") or []),
        )

    @property
    def own_log(self) -> bool:
        """The log is evtools' own run log (its commands), not the user's job log."""
        return self.log_format in (None, "evtools")


@dataclass(frozen=True)
class Failure:
    """A failed expectation: what was observed against which threshold, what it means and what to do."""

    suite: str
    expectation: str
    column: str
    observed: str
    threshold: str
    meaning: str
    action: str
    evidence: str = ""

    @classmethod
    def from_summary(cls, d: dict) -> Failure:
        return cls(*(str(d.get(f.name) or "") for f in fields(cls)))


@dataclass(frozen=True)
class Ingestion:
    """One ingestion day in the terms of the quality definitions (see sql/daily_ingestion.sql)."""

    rows: int
    events: int
    dates_touched: int
    duplicate_rows: int
    duplicate_events: int
    correction_rows: int
    rows_older_than_lookback: int
    events_older_than_lookback: int

    @classmethod
    def from_summary(cls, d: dict) -> Ingestion:
        return cls(*(int(d.get(f.name) or 0) for f in fields(cls)))


@dataclass(frozen=True)
class Daily:
    """The daily run: refresh, expectations, the recent window's reconciliation, the day's ingestion."""

    day: dt.date
    status: str  # ok | attention
    refresh_mode: str
    refresh_rows: int
    refresh_seconds: float | None
    dropped_by_fixed_window: int | None
    expectations: int
    failures: tuple[Failure, ...]
    window: Reconciliation
    window_days: int
    ingestion: Ingestion
    lookback_days: int

    @classmethod
    def from_summary(cls, s: dict) -> Daily:
        r, v, rec = s["refresh"], s["validation"], s["reconciliation"]
        return cls(
            _date(s["day"]),
            s["status"],
            r.get("mode", ""),
            int(r.get("rows_read", 0)),
            _float(r.get("seconds")),
            _int(r.get("dropped_by_fixed_window")),
            int(v["expectations"]),
            tuple(Failure.from_summary(f) for f in v.get("failures") or []),
            Reconciliation.from_summary(rec),
            int(s.get("window_days", 7)),
            Ingestion.from_summary(s["ingestion"]),
            int(s.get("lookback_days", 2)),
        )

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Source:
    name: str
    location: str


def sources(config) -> list[dict]:
    """The config's sources (name and location), as a report records them."""
    return [{"name": name, "location": source.location} for name, source in config.sources.items()]


KINDS = {
    "quality": Quality,
    "reconcile": Reconciliation,
    "profile": Profile,
    "layout": Layout,
    "refresh": Replay,
    "history": History,
    "daily": Daily,
}


def stopped(name: str, step: str | None, error: str | None) -> str:
    """Why a notebook of a report stopped, for a stakeholder: the step (its section) and the reason in words; the
    traceback stays in the executed .ipynb."""
    where = f"the step \u201c{step}\u201d of {name}" if step else name
    return f"This run stopped at {where}: {error}. The executed notebook {name}.ipynb keeps the details."


@dataclass(frozen=True)
class Page:
    """One executed notebook of a report run."""

    name: str
    title: str
    href: str
    status: str
    seconds: float
    error: str | None = None  # what stopped it, in words
    record: str | None = None  # the result the page records (a key of KINDS)
    step: str | None = None  # the section where it stopped

    @property
    def explanation(self) -> str | None:
        return None if self.status == "ok" else stopped(self.name, self.step, self.error)


@dataclass(frozen=True)
class Records:
    """Every typed result a report run's notebooks recorded (None where a page did not record it)."""

    quality: Quality | None = None
    reconcile: Reconciliation | None = None
    profile: Profile | None = None
    layout: Layout | None = None
    refresh: Replay | None = None
    history: History | None = None
    daily: Daily | None = None
    sources: tuple[Source, ...] = field(default_factory=tuple)

    @classmethod
    def from_summaries(cls, records: dict) -> Records:
        """The typed results of ``records`` (name -> summary dict); a record that cannot be read is left out."""
        typed = {}
        for name, kind in KINDS.items():
            if records.get(name) is None:
                continue
            try:
                typed[name] = kind.from_summary(records[name])
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                log.warning("the %s record cannot be read (%s: %s); left out", name, type(e).__name__, e)
        sources = tuple(Source(str(s["name"]), str(s["location"])) for s in records.get("sources") or [])
        return cls(**typed, sources=sources)
