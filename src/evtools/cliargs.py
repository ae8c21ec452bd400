"""The ``evtools`` command line's arguments: one sub-command per analysis, each with --help."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from evtools.config import DEFAULT_CONFIG


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found '{text}'") from e


def _timestamp(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f"expected a timestamp YYYY-MM-DD[ HH:MM[:SS]], found '{text}'"
        ) from e
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a whole number, found '{text}'") from e
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, found {value}")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, found '{text}'") from e
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, found {value}")
    return value


def _common(p: argparse.ArgumentParser, out: bool = True) -> None:
    p.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: ./evtools.toml)")
    if out:
        p.add_argument("--out", type=Path, help="folder for the output files (written whole or not at all)")


def _engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        help="run on this engine (default: [engine] kind in the config, else duckdb)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evtools",
        description="Measure, explain and fix a slow daily events aggregation whose dashboard disagrees with its source.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars (also EVTOOLS_NO_PROGRESS=1)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what evtools does")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("sample", help="generate a sample with injected faults and its ground truth")
    p.add_argument("--out", type=Path, required=True, help="folder to write the sample into")
    p.add_argument("--rows", type=_positive, default=100_000, help="events to generate (default 100000)")
    p.add_argument("--companies", type=_positive, default=30, help="companies (default 30)")
    p.add_argument("--days", type=_positive, default=60, help="days of events (default 60)")
    p.add_argument("--start", type=_date, default=dt.date(2026, 1, 1), help="first date (default 2026-01-01)")
    p.add_argument("--seed", type=int, default=7, help="random seed; same seed, same sample (default 7)")
    for name, default, what in (
        ("retry-rate", 0.01, "share of rows ingested twice within seconds"),
        ("replay-rate", 0.01, "share of hourly loads re-ingested whole"),
        ("correction-rate", 0.005, "share of events appended again with a corrected value"),
        ("move-share", 0.2, "share of corrections that move the event to an adjacent date"),
        ("late-rate", 0.03, "share of events arriving days to weeks late"),
        ("missing-rate", 0.002, "share of events the warehouse never receives"),
    ):
        p.add_argument(f"--{name}", type=_share, default=default, help=f"{what} (default {default})")
    p.add_argument(
        "--max-lag-days", type=_positive, default=45, help="cap on the late-arrival lag (default 45)"
    )
    p.add_argument(
        "--tz-companies", type=int, default=2, help="companies whose API buckets by local day (default 2)"
    )

    p = sub.add_parser("sources", help="check the configured sources and summarise them")
    _common(p)

    p = sub.add_parser("quality", help="duplicates, replays, corrections and late appends per company/date")
    _common(p)
    _engine(p)

    p = sub.add_parser(
        "reconcile", help="reconcile the dashboard against the API and attribute every difference"
    )
    _common(p)
    _engine(p)
    p.add_argument("--from", dest="date_from", type=_date, help="first date to compare")
    p.add_argument("--to", dest="date_to", type=_date, help="last date to compare")
    p.add_argument("--company", help="compare one company only")

    p = sub.add_parser("explain", help="the waterfall of one company/date and the rows behind each part")
    p.add_argument("company", help="company_id")
    p.add_argument("date", type=_date, help="date, YYYY-MM-DD")
    _common(p)
    _engine(p)

    p = sub.add_parser(
        "profile", help="profile the job's query: plan, time per operator, bytes and row groups read"
    )
    _common(p)
    p.add_argument(
        "--sql", type=Path, help="a file with the query to profile (default: the job's aggregation)"
    )
    p.add_argument("--window-days", type=_positive, help="profile the incremental form over the last N dates")

    p = sub.add_parser(
        "layout", help="re-lay fact_events by date and measure what each query reads before and after"
    )
    _common(p)
    p.add_argument("--window-days", type=_positive, default=2, help="the incremental window (default 2)")
    p.add_argument("--repeats", type=_positive, default=5, help="timed runs per query (default 5)")
    p.add_argument(
        "--table", default="fact_events", help="your warehouse table, for the DDL (default fact_events)"
    )

    p = sub.add_parser("refresh", help="maintain the exact incremental aggregate agg_company_daily_events")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: ./evtools.toml)")
    p.add_argument("--db", type=Path, help="the aggregate's DuckDB file (default: settings.aggregate_db)")
    _engine(p)
    p.add_argument(
        "--until", type=_timestamp, help="process rows ingested up to this time (default: the newest)"
    )
    p.add_argument("--full", action="store_true", help="rebuild from scratch")
    p.add_argument(
        "--strategy",
        choices=["touched", "lookback"],
        default="touched",
        help="touched: exact, follows the new rows (default); lookback: the fixed-window job",
    )
    p.add_argument(
        "--lookback-days", type=int, help="the window of the lookback strategy (default: settings)"
    )
    p.add_argument("--from", dest="date_from", type=_date, help="backfill: first date to rebuild")
    p.add_argument("--to", dest="date_to", type=_date, help="backfill: last date to rebuild")
    p.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for a running refresh (default 0)"
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="compare the table with a full recomputation; exit 1 on any difference",
    )

    p = sub.add_parser("validate", help="run the Great Expectations suites; exit 1 when an expectation fails")
    _common(p)
    p.add_argument(
        "--suite",
        action="append",
        choices=["fact_events", "api_daily", "dashboard", "agg_company_daily_events"],
        help="run only this suite (repeatable)",
    )
    p.add_argument(
        "--date", action="append", type=_date, help="the date to validate (repeatable; default: the latest)"
    )
    p.add_argument("--all", action="store_true", help="validate every date, one at a time")
    p.add_argument("--suites", type=Path, help="the suites folder (default: expectations/ beside the config)")
    p.add_argument("--as-of", type=_timestamp, help="the run's time for freshness (default: now)")
    p.add_argument("--db", type=Path, help="the aggregate's DuckDB file (default: settings.aggregate_db)")

    p = sub.add_parser(
        "runs",
        help="a job's run history (csv/jsonl, dbt run_results.json, Airflow): slower because of its data or a change?",
    )
    _common(p)
    p.add_argument(
        "--log",
        action="append",
        help="the run log: a file, glob or folder (repeatable; default: [runs] log in the config, else evtools' own)",
    )
    p.add_argument(
        "--format",
        choices=["auto", "generic", "dbt", "airflow", "evtools"],
        help="the log's format (default: [runs] format, else told from the content)",
    )
    p.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="NAME=COLUMN",
        help="map a canonical column (job, run_id, started_at, finished_at, seconds, rows, bytes, calls, status) to "
        "the log's; job=A,B joins columns (repeatable)",
    )
    p.add_argument(
        "--duration-unit",
        choices=["s", "ms", "us", "min", "h"],
        help="the unit of the log's duration column (default: from its name, else seconds)",
    )
    p.add_argument("--job", action="append", help="only the jobs matching this glob (repeatable)")
    p.add_argument(
        "--min-ratio",
        type=float,
        default=1.5,
        help="the smallest change in cost per unit reported as a change point (default 1.5)",
    )
    p.add_argument(
        "--batch-size", type=_positive, default=1000, help="the batch size of the N+1 arithmetic (default 1000)"
    )

    p = sub.add_parser("sql", help="print one of evtools' queries in your warehouse's SQL dialect")
    p.add_argument("name", nargs="?", help="the query (omit to list them)")
    p.add_argument(
        "--dialect",
        default="spark",
        choices=["spark", "databricks", "snowflake", "bigquery", "tsql", "postgres", "duckdb"],
        help="the dialect to write (default spark)",
    )

    p = sub.add_parser(
        "notify", help="compose the Slack update for the latest report; post it to SLACK_WEBHOOK_URL"
    )
    p.add_argument("--reports", type=Path, default=Path("reports"), help="reports folder (default: reports/)")
    p.add_argument(
        "--link", help="the URL where stakeholders open the reports (default: the local file path)"
    )
    p.add_argument("--dry-run", action="store_true", help="print the message and the payload, post nothing")

    p = sub.add_parser("report", help="run a report's notebooks with papermill and render them to HTML")
    p.add_argument("kind", choices=["investigation", "daily"], help="which report")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: ./evtools.toml)")
    p.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports/)")
    p.add_argument("--date", type=_date, help="the run's date (default: today, UTC)")
    p.add_argument(
        "--notebooks", type=Path, default=Path("notebooks"), help="notebooks folder (default: notebooks/)"
    )
    p.add_argument(
        "--only", action="append", help="run only this notebook (repeatable), e.g. 03_duplicates_late_appends"
    )
    p.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a notebook parameter (repeatable); unknown names are rejected",
    )
    p.add_argument("--timeout", type=_positive, default=900, help="seconds a cell may run (default 900)")
    return parser
