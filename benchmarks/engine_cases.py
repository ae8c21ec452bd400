"""The engines side by side on one generated set: DuckDB, PostgreSQL (the sql engine) and Spark local[2].

Each ``engines_*`` case opens one session of its engine over the set, then times, one after the other, quality,
reconcile, a full refresh as of 30 days before the newest ingestion and the daily run that follows it (one more day
of ingestion), and keeps each analysis's result frames under ``benchmarks/work/engines/<engine>/``. ``section``
(run by ``run.py`` after the cases) compares them with DuckDB's, frame by frame and key by key as the tests do, and
gives each engine's seconds as a ratio to DuckDB's.

PostgreSQL: a server started for the case from Debian's binaries, as the tests start theirs (``tests/pgserver.py``),
or the server of ``$EVTOOLS_BENCH_PG_URL`` (a SQLAlchemy URL; the schemas ``evtools_bench`` and
``evtools_bench_agg`` there are replaced). The set's files are copied into tables of the same names and columns
(COPY, then ANALYZE; no index), timed apart as the load. Spark runs where Java and pyspark are present.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from cases import WORK, _jvm_peak_mb, _spark_config, case
from evtools.analyses import quality, reconcile, refresh
from evtools.core.config import Config, load_config, parse_config
from evtools.engines import base as engines
from evtools.engines import connect

ENGINES = ("duckdb", "postgres", "spark")
NAMES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "spark": "Spark local[2]"}
ANALYSES = {  # timing -> what it is
    "quality_s": "`quality`",
    "reconcile_s": "`reconcile`",
    "refresh_full_s": "`refresh --full` (as of 30 days before the newest ingestion)",
    "refresh_daily_s": "daily `refresh` (the next day of ingestion)",
}
# the frames an analysis yields, compared with DuckDB's: analysis -> file stems
FRAMES = {
    "quality_s": ("quality", "quality_replayed_loads", "quality_arrival_lag"),
    "reconcile_s": ("reconcile",),
    "refresh_full_s": ("refresh_full",),
    "refresh_daily_s": ("refresh_daily",),
}
RUN_FIELDS = (
    "mode",
    "rows_read",
    "keys_changed",
    "dates_recomputed",
    "watermark_after",
    "missed_by_lookback_rows",
)
URL_ENV = "EVTOOLS_BENCH_PG_URL"
PASSWORD_ENV = "EVTOOLS_BENCH_PGPASSWORD"
SCHEMA = "evtools_bench"


def folder(engine: str) -> Path:
    return WORK / "engines" / engine


def _timed(fn: Callable):
    start = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - start, 3)


def measure(engine: str, config: Config, con, run_refresh: Callable, table: Callable) -> dict:
    """Time the four analyses on the open session ``con`` and keep their frames and summaries for ``section``.

    ``run_refresh(until, full)`` runs one refresh of the engine's aggregate; ``table()`` reads it back."""
    out = folder(engine)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    figures: dict = {}
    keep: dict = {}
    q, figures["quality_s"] = _timed(lambda: quality.analyse(con, config))
    keep |= {
        "quality": q.frame(),
        "quality_replayed_loads": q.replayed_loads,
        "quality_arrival_lag": q.arrival_lag,
    }
    r, figures["reconcile_s"] = _timed(lambda: reconcile.reconcile(con, config))
    keep["reconcile"] = r.frame()
    newest = engines.of(con).first_row("newest_ingested")[0]
    until = dt.datetime.combine(newest.date() - dt.timedelta(days=30), dt.time())
    full, figures["refresh_full_s"] = _timed(lambda: run_refresh(until, True))
    keep["refresh_full"] = table().drop(columns="refreshed_at")
    daily, figures["refresh_daily_s"] = _timed(lambda: run_refresh(until + dt.timedelta(days=1), False))
    keep["refresh_daily"] = table().drop(columns="refreshed_at")
    for stem, frame in keep.items():
        frame.to_pickle(out / f"{stem}.pkl")
    summaries = {
        "quality_s": q.summary,
        "reconcile_s": r.summary,
        "refresh_full_s": {f: getattr(full, f) for f in RUN_FIELDS},
        "refresh_daily_s": {f: getattr(daily, f) for f in RUN_FIELDS},
    }
    (out / "summaries.json").write_text(json.dumps(summaries, default=str, sort_keys=True))
    return figures | {
        "latest_events": q.summary["latest_events"],
        "mismatched": r.summary["mismatched"],
        "daily_keys_changed": daily.keys_changed,
    }


@case(
    "engines_duckdb", "engines on one set: DuckDB (the reference): quality, reconcile, refresh full and daily"
)
def engines_duckdb(config_path: Path) -> dict:
    config = load_config(config_path)
    con, open_s = _timed(lambda: connect.open_engine(config))
    db = folder("duckdb").with_suffix(".duckdb")
    db.unlink(missing_ok=True)
    figures = measure(
        "duckdb",
        config,
        con,
        lambda until, full: refresh.refresh(config, db, until=until, full=full),
        lambda: refresh.table(config, db),
    )
    db.unlink()
    return {"open_s": open_s, **figures}


@case(
    "engines_postgres",
    "engines on one set: PostgreSQL 15 (sql engine): load (COPY), quality, reconcile, refresh full and daily",
)
def engines_postgres(config_path: Path) -> dict:
    from sqlalchemy.engine import make_url

    if os.environ.get(URL_ENV):
        server, url = None, make_url(os.environ[URL_ENV])
    else:
        from tests.pgserver import PASSWORD, Server

        server = Server.start()
        url = make_url(server.url).set(password=PASSWORD)
    try:
        source = load_config(config_path)
        load_s, rows, version = _load(source, url)
        config = _sql_config(source, url)
        con, open_s = _timed(lambda: connect.open_engine(config))
        figures = measure(
            "postgres",
            config,
            con,
            lambda until, full: refresh.refresh(config, SCHEMA + "_agg", until=until, full=full, con=con),
            lambda: refresh.table(config, SCHEMA + "_agg", con),
        )
        con.close()
    finally:
        if server is not None:
            server.stop()
    where = f"the server of ${URL_ENV}" if server is None else "a server the case started (tests/pgserver.py)"
    return {
        "server": f"PostgreSQL {version}, {where}",
        "load_s": load_s,
        "rows_loaded": rows,
        "open_s": open_s,
        **figures,
    }


def _load(config: Config, url) -> tuple[float, int, str]:
    """Copy each source of the generated set (its files as they are) into a table of the schema SCHEMA of the
    server at ``url``: (seconds, fact_events rows, the server's version)."""
    import duckdb
    import psycopg
    from tests.pgserver import copy_into

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}_agg CASCADE")
        version = c.execute("SHOW server_version").fetchone()[0]
        for setting in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather"):
            version += f", {setting} {c.execute(f'SHOW {setting}').fetchone()[0]}"
    duck = duckdb.connect()
    rows = {}
    start = time.perf_counter()
    for name, source in config.sources.items():
        reader = "read_csv" if source.path.suffix == ".csv" else "read_parquet"
        rows[name] = copy_into(
            conninfo, SCHEMA, name, duck, f"SELECT * FROM {reader}($path)", {"path": str(source.path)}
        )
    seconds = round(time.perf_counter() - start, 3)
    duck.close()
    return seconds, rows["fact_events"], version


def _sql_config(config: Config, url) -> Config:
    """The set's config with its sources as the tables ``_load`` made and the sql engine on ``url`` (the password,
    when the URL has one, through PASSWORD_ENV)."""
    raw = tomllib.loads(config.path.read_text())
    raw["sources"] = {name: f"table:{SCHEMA}.{name}" for name in config.sources}
    engine = {"kind": "sql", "url": url.set(password=None).render_as_string(), "schema": SCHEMA + "_agg"}
    if url.password:
        os.environ[PASSWORD_ENV] = url.password
        engine["password_env"] = PASSWORD_ENV
    raw["engine"] = engine
    return parse_config(raw, config.path)


@case(
    "engines_spark", "engines on one set: Spark local[2] (JVM start in open_s): quality, reconcile, refresh"
)
def engines_spark(config_path: Path) -> dict:
    if (
        not (shutil.which("java") or os.environ.get("JAVA_HOME"))
        or importlib.util.find_spec("pyspark") is None
    ):
        return {
            "skipped": "needs Java 17+ (Debian openjdk-17-jre-headless) and pyspark (pip install '.[spark]')"
        }
    aggregate = folder("spark").with_name("spark-lake")
    shutil.rmtree(aggregate, ignore_errors=True)
    config = _spark_config(config_path, aggregate)
    con, open_s = _timed(lambda: connect.open_engine(config))
    figures = measure(
        "spark",
        config,
        con,
        lambda until, full: refresh.refresh(config, until=until, full=full, con=con),
        lambda: refresh.table(config, con=con),
    )
    shutil.rmtree(aggregate, ignore_errors=True)
    return {"open_s": open_s, **figures, "jvm_peak_mb": _jvm_peak_mb()}


def equal_to_duckdb(engine: str, analysis: str) -> bool:
    """Every frame of ``analysis`` equals DuckDB's (same columns, same rows in the same order, values equal whatever
    the dtypes), and so do its summary or the refresh run's counts."""
    got, ref = folder(engine), folder("duckdb")
    for stem in FRAMES[analysis]:
        left, right = (pd.read_pickle(f / f"{stem}.pkl").reset_index(drop=True) for f in (got, ref))
        if list(left.columns) != list(right.columns):
            return False
        try:
            pd.testing.assert_frame_equal(left, right, check_dtype=False)
        except AssertionError:
            return False
    summaries = [json.loads((f / "summaries.json").read_text())[analysis] for f in (got, ref)]
    return summaries[0] == summaries[1]


def all_equal(by_case: dict, engine: str) -> tuple[str, bool]:
    """(the analyses whose figures differ from DuckDB's, or "all equal"; whether all are equal)."""
    if "skipped" in by_case[f"engines_{engine}"]["extra"] or "engines_duckdb" not in by_case:
        raise KeyError(engine)  # not measured in this run: no target line
    differ = [a.removesuffix("_s") for a in ANALYSES if not equal_to_duckdb(engine, a)]
    return ("DIFFER: " + ", ".join(differ) if differ else "all equal"), not differ


def section(by_case: dict) -> list[str]:
    """The engines' table (markdown lines): per analysis, each engine's seconds, ratio to DuckDB and equality."""
    duck = by_case.get("engines_duckdb")
    if duck is None:
        return []
    ran = [
        e for e in ENGINES if f"engines_{e}" in by_case and "skipped" not in by_case[f"engines_{e}"]["extra"]
    ]
    head = "| analysis | " + " | ".join(
        f"{NAMES[e]} s" if e == "duckdb" else f"{NAMES[e]} s | x DuckDB | equal" for e in ran
    )
    lines = [
        "",
        "## Engines on one set",
        "",
        "Seconds inside one session per engine; x DuckDB: the engine's seconds over DuckDB's; equal: every frame of "
        "the analysis (every key's figures) and its summary equal DuckDB's, compared as the tests compare them.",
        "",
        head + " |",
        "|---|---:|" + "---:|---:|---|" * (len(ran) - 1),
    ]
    rows = {"load_s": "load the set (COPY, ANALYZE)", "open_s": "open a session", **ANALYSES}
    for key, what in rows.items():
        cells = []
        for e in ran:
            extra = by_case[f"engines_{e}"]["extra"]
            seconds = extra.get(key)
            shown = f"{seconds:.2f}" if seconds is not None else "–"
            if e == "duckdb":
                cells.append(shown)
            elif key in ANALYSES:
                ratio = seconds / duck["extra"][key]
                cells += [shown, f"{ratio:.1f}x", str(equal_to_duckdb(e, key))]
            else:
                cells += [shown, "", ""]
        lines.append(f"| {what} | " + " | ".join(cells) + " |")
    for e in ENGINES:
        skipped = by_case.get(f"engines_{e}", {}).get("extra", {}).get("skipped")
        if skipped:
            lines += ["", f"{NAMES[e]}: not run: {skipped}."]
    pg = by_case.get("engines_postgres", {}).get("extra", {})
    if "server" in pg:
        lines += ["", f"{pg['server']}; {pg['rows_loaded']:,} fact_events rows loaded."]
    return lines
