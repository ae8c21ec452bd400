"""The ``evtools`` command line: one error boundary, exit codes 0 ok, 1 a check failed, 2 bad input, 130 interrupted."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

from evtools import output, runlog
from evtools.config import DEFAULT_CONFIG, load_config
from evtools.errors import CheckFailed, EvtoolsError
from evtools.fsutil import atomic_dir

log = logging.getLogger("evtools")


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
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("sources", help="check the configured sources and summarise them")
    _common(p)
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("quality", help="duplicates, replays, corrections and late appends per company/date")
    _common(p)
    p.set_defaults(func=cmd_quality)

    p = sub.add_parser(
        "reconcile", help="reconcile the dashboard against the API and attribute every difference"
    )
    _common(p)
    p.add_argument("--from", dest="date_from", type=_date, help="first date to compare")
    p.add_argument("--to", dest="date_to", type=_date, help="last date to compare")
    p.add_argument("--company", help="compare one company only")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("explain", help="the waterfall of one company/date and the rows behind each part")
    p.add_argument("company", help="company_id")
    p.add_argument("date", type=_date, help="date, YYYY-MM-DD")
    _common(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser(
        "profile", help="profile the job's query: plan, time per operator, bytes and row groups read"
    )
    _common(p)
    p.add_argument(
        "--sql", type=Path, help="a file with the query to profile (default: the job's aggregation)"
    )
    p.add_argument("--window-days", type=_positive, help="profile the incremental form over the last N dates")
    p.set_defaults(func=cmd_profile)

    p = sub.add_parser(
        "layout", help="re-lay fact_events by date and measure what each query reads before and after"
    )
    _common(p)
    p.add_argument("--window-days", type=_positive, default=2, help="the incremental window (default 2)")
    p.add_argument("--repeats", type=_positive, default=5, help="timed runs per query (default 5)")
    p.add_argument(
        "--table", default="fact_events", help="your warehouse table, for the DDL (default fact_events)"
    )
    p.set_defaults(func=cmd_layout)

    p = sub.add_parser("refresh", help="maintain the exact incremental aggregate agg_company_daily_events")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: ./evtools.toml)")
    p.add_argument("--db", type=Path, help="the aggregate's DuckDB file (default: settings.aggregate_db)")
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
    p.set_defaults(func=cmd_refresh)

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
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "notify", help="compose the Slack update for the latest report; post it to SLACK_WEBHOOK_URL"
    )
    p.add_argument("--reports", type=Path, default=Path("reports"), help="reports folder (default: reports/)")
    p.add_argument(
        "--link", help="the URL where stakeholders open the reports (default: the local file path)"
    )
    p.add_argument("--dry-run", action="store_true", help="print the message and the payload, post nothing")
    p.set_defaults(func=cmd_notify)

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
    p.set_defaults(func=cmd_report)
    return parser


def cmd_sample(args: argparse.Namespace) -> int:
    from evtools.sample import SampleSpec, generate

    spec = SampleSpec(
        rows=args.rows,
        companies=args.companies,
        days=args.days,
        start=args.start,
        seed=args.seed,
        retry_rate=args.retry_rate,
        replay_rate=args.replay_rate,
        correction_rate=args.correction_rate,
        move_share=args.move_share,
        late_rate=args.late_rate,
        max_lag_days=args.max_lag_days,
        missing_rate=args.missing_rate,
        tz_companies=args.tz_companies,
    )
    meta = generate(spec, args.out, progress=args.progress)
    output.echo(
        f"wrote {meta['fact_rows']:,} fact_events rows ({meta['retry_rows']:,} retries, {meta['replay_rows']:,} "
        f"replayed, {meta['correction_rows']:,} corrections) to {args.out}"
    )
    output.echo(f"config: {args.out / 'evtools.toml'}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from evtools.sources import open_sources
    from evtools.summary import describe_sources

    config = load_config(args.config)
    con = open_sources(config)
    frame = describe_sources(con, config)
    output.table(frame, title=f"sources of {config.path}")
    if args.out:
        with atomic_dir(args.out) as tmp:
            (tmp / "sources.json").write_text(frame.to_json(orient="records", date_format="iso", indent=2))
        output.echo(f"\nwrote {args.out / 'sources.json'}")
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from evtools import quality
    from evtools.sources import open_sources

    config = load_config(args.config)
    con = open_sources(config)
    result = quality.analyse(con, config)
    runlog.note(**runlog.source_figures(con, config))
    output.quality_summary(result.summary)
    if args.out:
        output.written(result.write(args.out), args.out)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from evtools import reconcile
    from evtools.quality import Scope
    from evtools.sources import open_sources

    config = load_config(args.config)
    con = open_sources(config)
    scope = Scope(company=args.company, date_from=args.date_from, date_to=args.date_to)
    result = reconcile.reconcile(con, config, scope)
    runlog.note(**runlog.source_figures(con, config))
    output.reconcile_summary(result.summary)
    if args.out:
        output.written(result.write(args.out), args.out)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from evtools import reconcile
    from evtools.sources import open_sources

    config = load_config(args.config)
    con = open_sources(config)
    result = reconcile.explain(con, config, args.company, args.date)
    output.explanation(result, reconcile.ROLES)
    if args.out:
        output.written(result.write(args.out), args.out)
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from evtools import profiling
    from evtools.sources import open_sources

    config = load_config(args.config)
    con = open_sources(config, names=("fact_events",))
    if args.sql:
        if not args.sql.is_file():
            raise EvtoolsError(f"{args.sql}: --sql file not found")
        sql, params = args.sql.read_text(), {}
        for warning in profiling.pruning_warnings(sql):
            output.echo(f"warning: {warning}")
    else:
        sql, params = profiling.job_query(con, args.window_days)
    result = profiling.profile(con, sql, params)
    runlog.note(rows_read=result.totals["rows_scanned"], bytes_read=result.totals["bytes_read"])
    output.profile_summary(result)
    if args.out:
        output.written(result.write(args.out), args.out)
    return 0


def cmd_layout(args: argparse.Namespace) -> int:
    from evtools import ddl, layout
    from evtools.sources import open_sources

    if not args.out:
        raise EvtoolsError("layout: --out is required (the re-laid copies of fact_events are written there)")
    config = load_config(args.config)
    con = open_sources(config, names=("fact_events",))
    files = layout.write_layouts(con, args.out / "layouts")
    result = layout.measure(config, files, args.window_days, args.repeats)
    spec = ddl.LayoutSpec.from_config(config, args.table, *layout.date_range(con))
    statements = ddl.ddl(spec)
    result.write(args.out / "measurements")
    (args.out / "ddl.sql").write_text(
        "\n\n".join(f"-- {name}\n{text}" for name, text in statements.items()) + "\n"
    )
    output.layout_summary(result)
    output.echo(f"\nwrote layouts, measurements and ddl.sql to {args.out}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from evtools import refresh

    config = load_config(args.config)
    if args.verify:
        diff = refresh.verify(config, args.db)
        output.table(diff, title=f"keys differing from a full recomputation: {len(diff)}")
        if len(diff):
            raise CheckFailed(f"the aggregate differs from a full recomputation on {len(diff)} keys")
        return 0
    if (args.date_from is None) != (args.date_to is None):
        raise EvtoolsError("refresh: --from and --to go together")
    backfill = (args.date_from, args.date_to) if args.date_from else None
    r = refresh.refresh(
        config, args.db, args.until, args.strategy, args.full, args.lookback_days, backfill, args.wait
    )
    runlog.note(rows_read=r.rows_read, keys_written=r.keys_changed)
    output.echo(
        f"run {r.run_id} ({r.strategy}, {r.mode}): watermark {r.watermark_before} -> {r.watermark_after}; "
        f"{r.rows_read:,} rows read, {r.keys_changed:,} keys on {r.dates_recomputed:,} dates rewritten in {r.seconds:.2f} s"
    )
    if r.missed_by_lookback_rows:
        output.echo(
            f"a fixed-window job would have dropped {r.missed_by_lookback_rows:,} of the new rows "
            f"({r.missed_by_lookback_events:,} events): their dates are older than its lookback"
        )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from evtools import expectations
    from evtools.queries import load_sql
    from evtools.sources import open_sources

    config = load_config(args.config)
    dates = args.date
    if args.all:
        con = open_sources(config, names=("fact_events",), check=False)
        dates = [r[0] for r in con.execute(load_sql("dates")).fetchall()]
    suites = tuple(args.suite) if args.suite else expectations.SUITES
    docs = args.out / "data_docs" if args.out else None
    result = expectations.validate(config, suites, dates, args.suites, docs, args.as_of, args.db)
    cols = ["suite", "date", "expectation", "column", "success", "observed", "unexpected_count", "evidence"]
    output.table(result.results[cols], title="expectations", max_rows=60)
    if args.out:
        result.write(args.out)
        output.echo(f"\nwrote validation.json and Data Docs ({result.docs}) to {args.out}")
    if not result.success:
        raise CheckFailed(
            f"{result.summary['failed']} of {result.summary['expectations']} expectations failed"
        )
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    from evtools import notify

    run, folder = notify.latest_run(args.reports)
    link = (
        f"{args.link.rstrip('/')}/{run['date']}/{run['kind']}/index.html"
        if args.link
        else str(folder.resolve() / "index.html")
    )
    payload = notify.compose(run, link)
    output.echo(payload["text"])
    if args.dry_run:
        output.echo("\n" + json.dumps({"blocks": payload["blocks"]}, indent=2))
        return 0
    if not os.environ.get(notify.ENV):
        output.echo(f"\n{notify.ENV} is not set: nothing posted")
        return 0
    status = notify.post(payload)
    output.echo(f"\nposted to Slack (HTTP {status})")
    return 0


def _params(items: list[str]) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise EvtoolsError(f"--param '{item}': expected NAME=VALUE")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            out[name] = value
    return out


def cmd_report(args: argparse.Namespace) -> int:
    from evtools import reports

    load_config(args.config)  # bad config: one line, before any kernel starts
    date = args.date or dt.datetime.now(dt.UTC).date()
    record = reports.run_report(
        args.kind,
        Path(args.config),
        args.out,
        args.notebooks,
        date,
        _params(args.param),
        args.timeout,
        args.only,
    )
    output.echo(f"{args.kind} report {record['date']}: {record['status']}: {record['headline']}")
    output.echo(f"report: {args.out / record['date'] / args.kind / 'index.html'}")
    output.echo(f"index:  {args.out / 'index.html'}")
    return 0


def _run_log_path(args: argparse.Namespace) -> Path | None:
    """The config's run log, when the command has a readable config (sample has none)."""
    path = getattr(args, "config", None)
    if not path or not Path(path).is_file():
        return None
    try:
        return load_config(path).run_log
    except EvtoolsError:
        return None


def _loggable(args: argparse.Namespace) -> dict:
    return {
        k: v
        for k, v in vars(args).items()
        if k not in {"func", "debug", "verbose", "no_progress", "progress"}
    }


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.progress = not (args.no_progress or os.environ.get("EVTOOLS_NO_PROGRESS") or not sys.stderr.isatty())
    if not args.progress:
        os.environ["EVTOOLS_NO_PROGRESS"] = "1"  # DuckDB's progress bar follows the same switch
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
    )
    try:
        with runlog.recording(_run_log_path(args), args.command, _loggable(args)):
            return args.func(args)
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130
    except BrokenPipeError:  # the reader (head, less) went away: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except EvtoolsError as e:
        if args.debug:
            raise
        output.error(str(e))
        return e.exit_code
    except (OSError, json.JSONDecodeError) as e:
        if args.debug:
            raise
        output.error(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
