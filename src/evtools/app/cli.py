"""The ``evtools`` command line: one error boundary, exit codes 0 ok, 1 a check failed, 2 bad input or usage, 3 an
engine or environment failure, 130 interrupted (see ``evtools.core.errors``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from evtools.analyses import runlog
from evtools.app.cliargs import build_parser
from evtools.core import errors, redact
from evtools.core.config import DEFAULT_CONFIG, find_config, load_config
from evtools.core.errors import CheckFailed, ConfigError, EvtoolsError
from evtools.core.fsutil import atomic_dir, write_text
from evtools.present import output, results, tables

log = logging.getLogger("evtools")


def cmd_sample(args: argparse.Namespace) -> int:
    from evtools.analyses.sample import SampleSpec, generate

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
        delete_share=args.delete_share,
        backfill_rate=args.backfill_rate,
        late_rate=args.late_rate,
        max_lag_days=args.max_lag_days,
        missing_rate=args.missing_rate,
        tz_companies=args.tz_companies,
        ordered_ids=args.ordered_ids,
    )
    meta = generate(spec, args.out, progress=args.progress)
    output.echo(
        f"wrote {meta['fact_rows']:,} fact_events rows ({meta['retry_rows']:,} retries, {meta['replay_rows']:,} "
        f"replayed, {meta['backfill_rows']:,} backfilled, {meta['correction_rows']:,} corrections) to {args.out}"
    )
    output.echo(f"config: {args.out / 'evtools.toml'}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from evtools.app import project

    locations = {"fact_events": args.fact_events, "api_daily": args.api_daily, "dashboard": args.dashboard}
    made = project.init(args.dir, locations, args.force)
    output.echo(f"wrote {made.config}")
    for m in made.mappings:
        line = f"  {m.source}: {m.location}: {len(m.mapped)} columns mapped by name"
        if m.proposed:
            line += f", {len(m.proposed)} proposed in comments ({', '.join(m.proposed)})"
        if m.missing:
            line += f"; not found: {', '.join(m.missing)}"
        output.echo(line)
    kept = "" if made.suites_written else " (kept the files already there)"
    output.echo(f"wrote {made.suites}/ ({len(made.suites_written)} files){kept}: the suites, yours to edit")
    todo = any(m.proposed or m.missing for m in made.mappings) or not made.mappings
    config = made.config
    output.echo("\nnext:")
    if todo:
        output.echo(f"  edit {config}: the sources and the column mapping marked in comments")
    for step in (
        f"evtools sources --config {config}",
        f"evtools report daily --config {config} --out {config.parent / 'reports'}",
        f"evtools report investigation --config {config} --out {config.parent / 'reports'}",
    ):
        output.echo(f"  {step}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from evtools.analyses.summary import describe_sources
    from evtools.engines.sources import open_sources

    config = load_config(args.config)
    con = open_sources(config)
    frame = describe_sources(con, config)
    output.table(frame, title=f"sources of {config.path}")
    if args.out:
        with atomic_dir(args.out) as tmp:
            (tmp / "sources.json").write_text(frame.to_json(orient="records", date_format="iso", indent=2))
        output.echo(f"\nwrote {args.out / 'sources.json'}")
    return 0


def _config(args: argparse.Namespace):
    """The config, with ``--engine`` applied where the command has it."""
    return load_config(args.config).with_engine(getattr(args, "engine", None))


def cmd_quality(args: argparse.Namespace) -> int:
    from evtools.analyses import quality
    from evtools.engines.connect import open_engine

    config = _config(args)
    con = open_engine(config)
    _require_rows(con, config)
    result = quality.analyse(con, config)
    runlog.note(**runlog.source_figures(con, config))
    output.conclusion(results.Quality.from_summary(result.summary))
    if args.out:
        output.written(result.write(args.out), args.out)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from evtools.analyses import reconcile
    from evtools.analyses.quality import Scope
    from evtools.engines.connect import open_engine

    config = _config(args)
    con = open_engine(config)
    scope = Scope(company=args.company, date_from=args.date_from, date_to=args.date_to)
    _check_scope(con, scope)
    result = reconcile.reconcile(con, config, scope)
    runlog.note(**runlog.source_figures(con, config))
    found = results.Reconciliation.from_summary(result.summary)
    output.conclusion(found)
    output.parts(found)
    if args.out:
        output.written(result.write(args.out), args.out)
    return 0


def _require_rows(con, config) -> None:
    """EvtoolsError when fact_events has no rows: there is nothing to analyse."""
    from evtools.engines.queries import first_row

    if not first_row(con, "fact_rows")[0]:
        raise EvtoolsError(
            f"{config.source('fact_events').location}: fact_events has no rows; nothing to analyse"
        )


def _check_scope(con, scope) -> None:
    """EvtoolsError (exit 2) for a reversed range, or a company or date range without keys, naming what exists."""
    from evtools.engines.queries import first_row

    if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
        raise EvtoolsError(f"--from {scope.date_from} is after --to {scope.date_to}")
    found, company_keys, companies, first, last = first_row(con, "scope_keys", scope.params())
    if found:
        return
    if scope.company is not None and not company_keys:
        raise EvtoolsError(
            f"--company {scope.company}: not in the dashboard or the API ({companies:,} companies there)"
        )
    held = f"they hold {first} .. {last}" if first else "they are empty"
    raise EvtoolsError(
        f"no dashboard or API key between {scope.date_from or 'the start'} and {scope.date_to or 'the end'}"
        f"{f' for company {scope.company}' if scope.company else ''}: {held}"
    )


def cmd_explain(args: argparse.Namespace) -> int:
    from evtools.analyses import reconcile
    from evtools.engines.connect import open_engine

    config = _config(args)
    con = open_engine(config)
    result = reconcile.explain(con, config, args.company, args.date)
    output.explanation(result, reconcile.ROLES)
    if args.out:
        output.written(result.write(args.out), args.out)
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from evtools.analyses import profiling
    from evtools.engines.sources import open_sources

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
    output.conclusion(results.Profile.from_summary({"full": result.totals, "flags": result.flags}))
    output.table(result.operators, "operators", columns=tables.OPERATORS)
    if args.out:
        from evtools.present import plots

        plan = plots.plan_tree(result.operators, result.totals)
        output.written(result.write(args.out, {"plan.png": plan}), args.out)
    return 0


def cmd_layout(args: argparse.Namespace) -> int:
    from evtools.analyses import ddl, layout
    from evtools.engines.sources import open_sources

    if not args.out:
        raise EvtoolsError("layout: --out is required (the re-laid copies of fact_events are written there)")
    config = load_config(args.config)
    con = open_sources(config, names=("fact_events",))
    _require_rows(con, config)
    statements = ddl.ddl(ddl.LayoutSpec.from_config(config, args.table, *layout.date_range(con)))
    with atomic_dir(args.out) as tmp:  # layouts, measurements and DDL switch in together, or not at all
        files = layout.write_layouts(con, tmp / "layouts")
        result = layout.measure(config, files, args.window_days, args.repeats)
        result.write(tmp / "measurements")
        write_text(
            tmp / "ddl.sql", "\n\n".join(f"-- {name}\n{text}" for name, text in statements.items()) + "\n"
        )
    output.conclusion(results.Layout.from_summary(result.summary))
    output.table(result.measurements, "what each query reads, per layout", columns=tables.MEASUREMENTS)
    output.echo(f"\nwrote layouts, measurements and ddl.sql to {args.out}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from evtools.analyses import refresh

    config = _config(args)
    if args.verify:
        diff = refresh.verify(config, args.db)
        output.table(diff, title=f"keys differing from a full recomputation: {len(diff)}")
        if len(diff):
            raise CheckFailed(f"the aggregate differs from a full recomputation on {len(diff)} keys")
        return 0
    if (args.date_from is None) != (args.date_to is None):
        raise EvtoolsError("refresh: --from and --to go together")
    if args.date_from and args.date_from > args.date_to:
        raise EvtoolsError(f"refresh --from {args.date_from} is after --to {args.date_to}")
    if config.engine.kind == "spark" and args.lookback_days is not None:
        raise EvtoolsError("refresh --lookback-days: not available on the spark engine (strategy touched only)")
    backfill = (args.date_from, args.date_to) if args.date_from else None
    r = refresh.refresh(
        config, args.db, args.until, args.strategy, args.full, args.lookback_days, backfill, args.wait
    )
    _refreshed(r)
    if config.engine.kind == "spark":
        output.echo(f"aggregate: {config.aggregate_path}/agg (parquet, partitioned by date)")
    return 0


def _refreshed(r) -> None:
    runlog.note(rows_read=r.rows_read, keys_written=r.keys_changed, mode=r.mode)
    output.echo(
        f"run {r.run_id} ({r.strategy}, {r.mode}): watermark {r.watermark_before} -> {r.watermark_after}; "
        f"{r.rows_read:,} rows read, {r.keys_changed:,} keys on {r.dates_recomputed:,} dates rewritten in {r.seconds:.2f} s"
    )
    waiting, future = getattr(r, "waiting_rows", 0), getattr(r, "future_rows", 0)
    if waiting:
        why = (
            f"; {future:,} of them are from the future (stamped later than now: a wrong clock or value)"
            if future
            else ""
        )
        output.echo(f"{waiting:,} rows ingested after {r.watermark_after} wait for a later run{why}")
    if r.missed_by_lookback_rows:
        output.echo(
            f"a fixed-window job would have dropped {r.missed_by_lookback_rows:,} of the new rows "
            f"({r.missed_by_lookback_events:,} events): their dates are older than its lookback"
        )


def cmd_runs(args: argparse.Namespace) -> int:
    from evtools.analyses import runs
    from evtools.present import runs_text

    path = Path(args.config) if args.config else _found_config()
    path = path / DEFAULT_CONFIG if path.is_dir() else path
    if args.log is None and not path.is_file():
        raise EvtoolsError(
            f"runs: give the run log with --log FILE, or a config (--config; {path} not found) whose "
            "[runs] log or evtools run log to read"
        )
    config = load_config(path) if path.is_file() else None
    if args.min_ratio <= 1:
        raise EvtoolsError(f"runs --min-ratio: expected a number above 1, found {args.min_ratio}")
    thresholds = runs.Thresholds(min_ratio=args.min_ratio, batch_size=args.batch_size)
    result = runs.investigate(
        config, args.log, args.format, _columns(args.column), args.duration_unit, args.job, thresholds
    )
    output.echo("\n".join(runs_text.header(result)))
    if len(result.jobs):
        output.table(runs_text.jobs_table(result), title="jobs")
    for paragraph in runs_text.lines(result):
        output.echo("\n" + paragraph)
    if args.out:
        output.written(result.write(args.out), args.out)
    return 0


def _found_config() -> Path:
    """The config found without --config, or a path that does not exist when there is none."""
    try:
        return find_config()
    except ConfigError:
        return Path(DEFAULT_CONFIG).resolve()


def _columns(items: list[str]) -> dict:
    out: dict = {}
    for item in items:
        name, sep, column = item.partition("=")
        if not sep or not name or not column:
            raise EvtoolsError(f"--column '{item}': expected NAME=COLUMN")
        out[name] = column.split(",") if name == "job" and "," in column else column
    return out


def cmd_sql(args: argparse.Namespace) -> int:
    from evtools.engines import dialects

    if args.script:
        from evtools.analyses import scripts

        if args.name:
            raise EvtoolsError("sql: give a query name or --script, not both")
        sys.stdout.write(scripts.script(load_config(args.config), args.script, args.dialect, bind=args.param))
        return 0
    if not args.name:
        names = dialects.names()
        width = max(map(len, names))
        output.echo("\n".join(f"{name:<{width}}  {_purpose(name)}" for name in names))
        return 0
    if args.name not in dialects.names():
        raise EvtoolsError(f"sql: no query named '{args.name}'; run evtools sql to list them")
    sys.stdout.write(dialects.transpile(args.name, args.dialect))
    return 0


def _purpose(name: str) -> str:
    """The first sentence of a query's header comment."""
    from evtools.engines.queries import load_sql

    header = []
    for line in load_sql(name).splitlines():
        if not line.startswith("--"):
            break
        header.append(line.lstrip("-").strip())
    text = " ".join(header)
    end = text.find(". ")
    return text[: end + 1] if end > 0 else text


def cmd_validate(args: argparse.Namespace) -> int:
    from evtools.analyses import expectations
    from evtools.engines.queries import load_sql
    from evtools.engines.sources import open_sources

    config = load_config(args.config)
    dates = args.date
    if args.all:
        con = open_sources(config, names=("fact_events",), check=False)
        dates = [
            r[0] for r in con.execute(load_sql("dates")).fetchall()
        ] or None  # none: the empty table fails
    suites = tuple(args.suite) if args.suite else expectations.SUITES
    with atomic_dir(args.out) if args.out else contextlib.nullcontext() as tmp:
        docs = tmp / "data_docs" if tmp else None
        result = expectations.validate(
            config, suites, dates, args.suites, docs, args.as_of, args.db, progress=args.progress
        )
        if tmp:
            result.write(tmp)
    cols = ["suite", "date", "expectation", "column", "success", "observed", "unexpected_count", "evidence"]
    output.table(result.results[cols], title="expectations", max_rows=60)
    if args.out:
        docs = f" and Data Docs ({args.out / 'data_docs' / 'index.html'})" if result.docs else ""
        output.echo(f"\nwrote validation.json{docs} to {args.out}")
    if not result.success:
        raise CheckFailed(
            f"{result.summary['failed']} of {result.summary['expectations']} expectations failed"
        )
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    from evtools.app import notify

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
        raise EvtoolsError(
            f"{notify.ENV} is not set: nothing posted; set it to your Slack incoming webhook "
            "(https://hooks.slack.com/services/...), or pass --dry-run to only print the message"
        )
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
    from evtools.app import reports

    config = load_config(args.config)  # bad config: one line, before any kernel starts
    record = reports.run_report(
        args.kind,
        config.path,
        args.out,
        args.notebooks,
        args.date,
        _params(args.param),
        args.timeout,
        args.only,
        args.suites,
        args.progress,
        args.wait,
    )
    output.echo(f"{args.kind} report {record['date']}: {record['status']}: {record['headline']}")
    output.echo(f"report: {args.out / record['date'] / args.kind / 'index.html'}")
    output.echo(f"index:  {args.out / 'index.html'}")
    return 0


def _run_log_path(args: argparse.Namespace) -> Path | None:
    """The config's run log, when the command takes a config and it is readable (sample and init take none)."""
    if not hasattr(args, "config"):
        return None
    try:
        return load_config(args.config).run_log
    except EvtoolsError:
        return None


def _loggable(args: argparse.Namespace) -> dict:
    return {k: v for k, v in vars(args).items() if k not in {"debug", "verbose", "no_progress", "progress"}}


COMMANDS = {
    "init": cmd_init,
    "sample": cmd_sample,
    "sources": cmd_sources,
    "quality": cmd_quality,
    "reconcile": cmd_reconcile,
    "explain": cmd_explain,
    "profile": cmd_profile,
    "layout": cmd_layout,
    "refresh": cmd_refresh,
    "validate": cmd_validate,
    "runs": cmd_runs,
    "sql": cmd_sql,
    "notify": cmd_notify,
    "report": cmd_report,
}


def main(argv: list[str] | None = None) -> int:
    """Run one command; every outcome is an exit code from the table in ``evtools.core.errors`` and at most one line on
    stderr (``--debug`` adds the traceback above it and changes no exit code)."""
    handlers, stop_waking = _handle_signals()  # first: an interrupt during start-up is exit 130 too
    args = run = None
    try:
        args = build_parser().parse_args(argv)
        args.progress = not (
            args.no_progress or os.environ.get("EVTOOLS_NO_PROGRESS") or not sys.stderr.isatty()
        )
        if not args.progress:
            os.environ["EVTOOLS_NO_PROGRESS"] = "1"  # DuckDB's progress bar follows the same switch
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
        )
        if not args.verbose:  # a notebook's kernel stopped by an interrupt: asyncio's leftover-task report and the
            # kernel client's "Could not destroy zmq context" (traitlets' logger, at garbage collection) are noise
            for noisy in ("asyncio", "traitlets"):
                logging.getLogger(noisy).setLevel(logging.CRITICAL)
        redact.install_log_filter()
        run = runlog.start(_run_log_path(args), args.command, _loggable(args))
        code = COMMANDS[args.command](args)
        run.finish(code)
        return code
    except SystemExit:  # argparse: --help, or a usage error it has printed (exit 2)
        raise
    except BrokenPipeError:  # the reader (head, less) went away: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if run:
            run.finish(0)
        return 0
    except BaseException as e:
        error = errors.classify(e)
        if args is not None and args.debug:
            output.traceback(e)
        output.error(str(error))
        if run:
            run.finish(error.exit_code, str(error))
        return error.exit_code
    finally:
        stop_waking()
        if not errors.interrupted_by():  # the caller (a test, a notebook) gets its own handlers back
            for signum, handler in handlers.items():
                signal.signal(signum, handler)


def _handle_signals() -> tuple[dict, Callable[[], None]]:
    """SIGINT and SIGTERM interrupt the run the same way (exit 130), also inside a DuckDB query; return the
    handlers they had and the function that stops interrupting queries."""
    if threading.current_thread() is not threading.main_thread():
        return {}, lambda: None
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, errors.interrupt_handler)
    return previous, errors.wake_queries()


if __name__ == "__main__":
    sys.exit(main())
