"""The daily run: refresh the aggregate, validate the latest date, reconcile the recent window, describe yesterday's
ingestion. Its verdict (OK or ATTENTION, and why) is ``conclusions.verdict`` of the typed result: OK only when every
expectation passes and the dashboard matches the API on every company-day of the window (and there is one)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evtools.analyses import expectations, reconcile, refresh
from evtools.analyses.quality import Scope
from evtools.core.config import Config
from evtools.core.errors import CheckFailed
from evtools.engines.queries import first_row, run
from evtools.engines.sources import open_sources


@dataclass(frozen=True)
class Daily:
    day: dt.date
    refresh: refresh.RunResult
    validation: expectations.Validation
    reconciliation: reconcile.Reconciliation
    ingestion: dict
    runs: pd.DataFrame
    status: str  # ok | attention
    window_days: int = 7
    lookback_days: int = 2

    def summary(self) -> dict:
        rec = self.reconciliation.summary
        return {
            "day": str(self.day),
            "status": self.status,
            "window_days": self.window_days,
            "lookback_days": self.lookback_days,
            "refresh": {
                "mode": self.refresh.mode,
                "rows_read": self.refresh.rows_read,
                "keys_changed": self.refresh.keys_changed,
                "seconds": self.refresh.seconds,
                "dropped_by_fixed_window": self.refresh.missed_by_lookback_events,
            },
            "validation": {
                k: self.validation.summary[k] for k in ("expectations", "failed", "success", "failures")
            },
            "reconciliation": rec,
            "ingestion": self.ingestion,
        }


def run_daily(
    config: Config,
    day: dt.date | None = None,
    window_days: int = 7,
    as_of: dt.datetime | None = None,
    db: Path | None = None,
    suites: Path | None = None,
    docs: Path | None = None,
    wait: float = 0.0,
) -> Daily:
    """The daily run for ``day`` (default: the latest complete date, see ``report_date``); Great Expectations Data Docs
    go to ``docs`` if given."""
    con = open_sources(config)
    day = report_date(con, day)
    until = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    ran = refresh.refresh(config, db, wait=wait)  # everything ingested so far, as the scheduled job would
    validation = expectations.validate(
        config, dates=[day], folder=suites, as_of=as_of or until, db=db, docs=docs
    )
    scope = Scope(date_from=day - dt.timedelta(days=window_days - 1), date_to=day)
    rec = reconcile.reconcile(open_sources(config), config, scope)
    ingestion = run(con, "daily_ingestion", {"day": day, "lookback": config.settings.lookback_days}).iloc[0]
    ingestion = {k: int(v) for k, v in ingestion.items()}
    runs = refresh.runs(config, db)
    status = (
        "ok"
        if validation.success and rec.summary["mismatched"] == 0 and rec.summary["keys_compared"]
        else "attention"
    )
    return Daily(
        day, ran, validation, rec, ingestion, runs, status, window_days, config.settings.lookback_days
    )


def report_date(con, day: dt.date | None = None) -> dt.date:
    """The date a daily report covers: ``day`` when given, else the latest complete date (the greatest date with rows
    whose UTC day had ended by the newest ingested_at; the newest date may still be filling). CheckFailed (exit 1)
    when fact_events has no rows on it: a date without data is never reported as a clean match."""
    if day is None:
        day = first_row(con, "latest_complete_date")[0]
        if day is None:
            newest = first_row(con, "newest_ingested")[0]
            raise CheckFailed(
                f"fact_events has no complete date yet (newest ingested_at {newest}); pass --date to report on one"
            )
    if not first_row(con, "rows_on_date", {"day": day})[0]:
        first, last = first_row(con, "date_range")
        held = f"its dates run {first} .. {last}" if first else "it is empty"
        raise CheckFailed(f"fact_events has no rows on {day} ({held}): nothing to report for that date")
    return day
