"""The ``evtools`` command line's arguments: one sub-command per analysis, each with --help."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path


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


def _number(convert: type, low: float, high: float | None = None, what: str = "a number"):
    """An argparse type: ``convert`` the text and check ``low <= value <= high``; one message for both failures."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"expected {what}, found '{text}'") from e
        if value < low or (high is not None and value > high) or value != value:
            raise argparse.ArgumentTypeError(f"expected {what}, found {value}")
        return value

    return parse


_positive = _number(int, 1, what="a positive number")
_natural = _number(int, 0, what="a whole number >= 0")
_seconds = _number(float, 0, 1e7, what="seconds >= 0")
_share = _number(float, 0, 1, what="a share between 0 and 1")


def _common(p: argparse.ArgumentParser, out: bool = True) -> None:
    _config(p)
    if out:
        p.add_argument("--out", type=Path, help="folder for the output files (written whole or not at all)")


def _config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        help="config file or its folder (default: $EVTOOLS_CONFIG, else evtools.toml here or in a folder above)",
    )


def _engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=["duckdb", "spark", "sql"],
        help="run on this engine (default: [engine] kind in the config, else duckdb)",
    )


def _global_flags(p: argparse.ArgumentParser, default) -> None:
    """--debug, --no-progress and --verbose, accepted before the sub-command and after it."""
    p.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="add the traceback to an error (exit codes unchanged)",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        default=default,
        help="no progress bars (also EVTOOLS_NO_PROGRESS=1; off anyway without a terminal)",
    )
    p.add_argument("-v", "--verbose", action="store_true", default=default, help="log what evtools does")


# each sub-command's --help opens with what it does and what it writes
COMMANDS = {
    "init": (
        "start a project: evtools.toml and editable expectations",
        "Write DIR/evtools.toml (the sources and the column mapping, as comments to fill in) and DIR/expectations/ "
        "(the default Great Expectations suites, to edit). With --fact-events, --api-daily and --dashboard it fills "
        "in the paths, lists the columns it found and maps those whose names match. Writes nothing else.",
    ),
    "sample": (
        "generate a sample with injected faults and its ground truth",
        "Generate events with injected duplicates, replays, corrections, late and missing rows, the API and the "
        "dashboard they would give, and the exact truth. Writes fact_events/, api_daily.csv, dashboard.parquet, "
        "ground_truth.parquet, ground_truth_loads.parquet, sample.json and evtools.toml into --out.",
    ),
    "sources": (
        "check the configured sources and summarise them",
        "Open every configured source through the column mapping and summarise it (rows, companies, dates, "
        "columns). Writes sources.json into --out when given.",
    ),
    "quality": (
        "duplicates, replays, corrections and late appends per company/date",
        "Measure duplicates, replays, corrections and late rows per company and date, and the lookback they call "
        "for. Writes quality_by_company_date.parquet, replayed_loads.parquet, arrival_lag.parquet and summary.json "
        "into --out when given.",
    ),
    "reconcile": (
        "reconcile the dashboard against the API and attribute every difference",
        "Compare the dashboard with the API on every company/date and split each difference into drift, "
        "duplicates, corrections, late and residual. Writes reconciliation.parquet, reconciliation.csv and "
        "summary.json into --out when given.",
    ),
    "explain": (
        "the waterfall of one company/date and the rows behind each part",
        "Explain one company/date: its waterfall from the API to the dashboard and the rows behind each part. "
        "Writes waterfall.json and evidence.csv into --out when given.",
    ),
    "profile": (
        "profile the job's query: plan, time per operator, bytes and row groups read",
        "Profile the job's query (or yours) with DuckDB: time per operator, rows, estimates, files and row groups "
        "read, and flags with their evidence. Writes profile.json, operators.parquet and plan.png into --out when "
        "given.",
    ),
    "layout": (
        "re-lay fact_events by date and measure what each query reads before and after",
        "Re-lay fact_events sorted and partitioned by date, and measure what the job, its window and single-company "
        "queries read on each layout; DDL for your warehouse. Writes layouts/, measurements/ and ddl.sql into --out "
        "(required).",
    ),
    "refresh": (
        "maintain the exact incremental aggregate agg_company_daily_events",
        "Bring the aggregate agg_company_daily_events up to date from the rows ingested since its last run, exactly. "
        "Writes the aggregate's DuckDB file (settings.aggregate_db, or --db), or on the sql engine its tables in the "
        "schema engine.schema of the database; --verify writes nothing.",
    ),
    "validate": (
        "run the Great Expectations suites; exit 1 when an expectation fails",
        "Run the Great Expectations suites on a date (or every date) and exit 1 when an expectation fails. Writes "
        "validation.json and data_docs/ into --out when given.",
    ),
    "runs": (
        "a job's run history: slower because of its data, or because something changed?",
        "Read a job-run history (csv/jsonl with a column mapping, dbt run_results.json, an Airflow task-instance "
        "export, or evtools' own run log) and tell, per job, whether its time follows its volume or jumped at a "
        "run, with timeouts, failures and the N+1 signature. Writes runs.parquet, jobs.parquet and summary.json "
        "into --out when given.",
    ),
    "sql": (
        "list evtools' queries, print one in your warehouse's SQL dialect, or a whole analysis as one script",
        "List evtools' queries with their purpose, or print one transpiled to your warehouse's dialect; with --script, "
        "one complete, ordered script of quality, reconcile or refresh over the config's tables (views from the "
        "column mapping, every temporary table, the final selects), runnable as printed (psql -f for postgres). "
        "Writes nothing; prints to stdout.",
    ),
    "notify": (
        "post the Slack update for the latest report to SLACK_WEBHOOK_URL",
        "Compose the Slack update for the latest report and post it to the incoming webhook in SLACK_WEBHOOK_URL "
        "(--dry-run only prints it). Writes no file.",
    ),
    "report": (
        "run a report's notebooks with papermill and render them to HTML",
        "Run a report's notebooks (the daily report or the investigation) with papermill and render them to HTML "
        "without code. Writes OUT/<date>/<kind>/ (executed notebooks, HTML, run.json, Data Docs) and OUT/index.html.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evtools",
        description="Measure, explain and fix a slow daily events aggregation whose dashboard disagrees with its "
        "source. Exit codes: 0 ok, 1 a check failed, 2 bad input or usage, 3 an engine or environment failure, "
        "130 interrupted.",
    )
    _global_flags(parser, False)
    flags = argparse.ArgumentParser(add_help=False)
    _global_flags(flags, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str) -> argparse.ArgumentParser:
        short, long = COMMANDS[name]
        return sub.add_parser(name, help=short, description=long, parents=[flags])

    p = command("init")
    p.add_argument("dir", type=Path, help="the project folder (created if missing)")
    p.add_argument(
        "--fact-events", help="where fact_events lies: a file, a glob, a folder or duckdb:FILE:TABLE"
    )
    p.add_argument("--api-daily", help="where the API's daily figures lie")
    p.add_argument("--dashboard", help="where the dashboard's table lies")
    p.add_argument("--force", action="store_true", help="replace an existing evtools.toml")

    p = command("sample")
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
        ("delete-share", 0.1, "share of corrections that set the event to 0 events"),
        ("backfill-rate", 0.01, "share of hourly loads re-ingested whole 3-10 days later"),
        ("late-rate", 0.03, "share of events arriving days to weeks late"),
        ("missing-rate", 0.002, "share of events the warehouse never receives"),
    ):
        p.add_argument(f"--{name}", type=_share, default=default, help=f"{what} (default {default})")
    p.add_argument(
        "--max-lag-days", type=_positive, default=45, help="cap on the late-arrival lag (default 45)"
    )
    p.add_argument(
        "--tz-companies",
        type=_natural,
        default=2,
        help="companies whose API buckets by local day (default 2)",
    )
    p.add_argument(
        "--ordered-ids",
        action="store_true",
        help="event ids that increase with the time the event happened (sequences, snowflake ids, UUIDv7); "
        "default: random with respect to time (UUIDv4, hashes)",
    )

    p = command("sources")
    _common(p)

    p = command("quality")
    _common(p)
    _engine(p)

    p = command("reconcile")
    _common(p)
    _engine(p)
    p.add_argument("--from", dest="date_from", type=_date, help="first date to compare")
    p.add_argument("--to", dest="date_to", type=_date, help="last date to compare")
    p.add_argument("--company", help="compare one company only")

    p = command("explain")
    p.add_argument("company", help="company_id")
    p.add_argument("date", type=_date, help="date, YYYY-MM-DD")
    _common(p)
    _engine(p)

    p = command("profile")
    _common(p)
    p.add_argument(
        "--sql", type=Path, help="a file with the query to profile (default: the job's aggregation)"
    )
    p.add_argument("--window-days", type=_positive, help="profile the incremental form over the last N dates")

    p = command("layout")
    _common(p)
    p.add_argument("--window-days", type=_positive, default=2, help="the incremental window (default 2)")
    p.add_argument("--repeats", type=_positive, default=5, help="timed runs per query (default 5)")
    p.add_argument(
        "--table", default="fact_events", help="your warehouse table, for the DDL (default fact_events)"
    )

    p = command("refresh")
    _config(p)
    p.add_argument(
        "--db",
        type=Path,
        help="the aggregate's DuckDB file (default: settings.aggregate_db); on the sql engine, the database's schema "
        "holding it (default: engine.schema)",
    )
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
        "--lookback-days", type=_natural, help="the window of the lookback strategy (default: settings)"
    )
    p.add_argument("--from", dest="date_from", type=_date, help="backfill: first date to rebuild")
    p.add_argument("--to", dest="date_to", type=_date, help="backfill: last date to rebuild")
    p.add_argument(
        "--wait", type=_seconds, default=0.0, help="seconds to wait for a running refresh (default 0)"
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="compare the table with a full recomputation; exit 1 on any difference",
    )

    p = command("validate")
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
    p.add_argument(
        "--all", action="store_true", help="validate every date (each batch's metrics for all dates in one pass)"
    )
    p.add_argument(
        "--suites",
        type=Path,
        help="the suites folder (default: expectations/ beside the config, else evtools' own)",
    )
    p.add_argument("--as-of", type=_timestamp, help="the run's time for freshness (default: now)")
    p.add_argument("--db", type=Path, help="the aggregate's DuckDB file (default: settings.aggregate_db)")

    p = command("runs")
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
        "--batch-size",
        type=_positive,
        default=1000,
        help="the batch size of the N+1 arithmetic (default 1000)",
    )

    p = command("sql")
    p.add_argument("name", nargs="?", help="the query (omit to list them)")
    p.add_argument(
        "--dialect",
        default="spark",
        choices=["spark", "databricks", "snowflake", "bigquery", "tsql", "postgres", "duckdb"],
        help="the dialect to write (default spark)",
    )
    p.add_argument(
        "--script",
        choices=["quality", "reconcile", "refresh"],
        help="print one complete, ordered, runnable script of this analysis over the config's tables",
    )
    p.add_argument(
        "--param",
        action="store_true",
        help="with --script: leave the values as the dialect's bind markers instead of inlined literals",
    )
    p.add_argument("--config", help="with --script: the config whose sources and mapping the script reads")

    p = command("notify")
    p.add_argument("--reports", type=Path, default=Path("reports"), help="reports folder (default: reports/)")
    p.add_argument(
        "--link", help="the URL where stakeholders open the reports (default: the local file path)"
    )
    p.add_argument("--dry-run", action="store_true", help="print the message and the payload, post nothing")

    p = command("report")
    p.add_argument("kind", choices=["investigation", "daily"], help="which report")
    _config(p)
    p.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports/)")
    p.add_argument(
        "--date",
        type=_date,
        help="the report's date (default: daily, the latest complete date of the data; investigation, today)",
    )
    p.add_argument("--notebooks", type=Path, help="a folder of notebooks to run instead of evtools' own")
    p.add_argument(
        "--suites",
        type=Path,
        help="the suites folder (default: expectations/ beside the config, else evtools' own)",
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
    p.add_argument(
        "--timeout",
        type=_positive,
        default=900,
        help="seconds a cell may run, or a kernel may take to start (default 900)",
    )
    p.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        help="seconds to wait for another report into --out, or a running refresh (default 0)",
    )
    return parser
