"""Sources become DuckDB views with canonical names.

``open_sources`` reads each configured dataset where it lies (parquet, csv or json lines: a file, a glob or a
hive-partitioned folder; or a table in a DuckDB file given as ``duckdb:FILE:TABLE``), then defines a view named after
the source (``fact_events``, ``api_daily``, ``dashboard``) that renames and normalises the user's columns to the
canonical schema (see ``evtools.core.schema``). Nothing is loaded into memory; every later query reads the files in place.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from evtools.core.config import Config, Source
from evtools.core.errors import DataError, interruptible
from evtools.core.fsutil import files_at, process_alive
from evtools.core.schema import SCHEMA, Column
from evtools.engines import base as engines
from evtools.engines.pipeline import LOCATED
from evtools.engines.queries import fetch_row, load_sql, quote_ident

log = logging.getLogger(__name__)

FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_INTEGER = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
}
_TIMESTAMP = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME"}
_ZONED = {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMPTZ_NS", "TIMESTAMP_NS WITH TIME ZONE"}
# LOCATED: fact_events read from parquet files, with each row's place: _file (its file's index in the scan) and _row
# (its row number in that file). A lookup that finds rows by one column can then read the others of those rows only
# (refresh_locate.sql, refresh_fetch.sql). Defined when fact_events is parquet and none of its columns is named (in
# any case: DuckDB's names ignore it) as DuckDB's virtual columns file_index and file_row_number or as their aliases.
_PLACE = {"_evtools_file": "file_index", "_evtools_row": "file_row_number"}
ABSENT_TYPES = {"id": "BIGINT", "ts": "TIMESTAMP", "date": "DATE", "count": "BIGINT", "version": "BIGINT"}
"""The type of a canonical column a source lacks (an optional column, NULL in its view), by column kind."""


def connect(config: Config | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the config's memory and thread limits; SIGINT and SIGTERM interrupt
    its queries."""
    con = interruptible(duckdb.connect())
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET temp_directory = $d", {"d": _spill_dir()})
    # keep the Parquet footers read once in memory (checked against the file's modification time): the analyses and
    # a refresh scan the same files several times, and each scan otherwise re-reads every file's footer to prune
    con.execute("SET parquet_metadata_cache = true")
    # DuckDB's own progress bar on long queries, for people at a terminal; never in scheduled runs
    # (inside Jupyter DuckDB's bar needs ipywidgets; notebooks go without it)
    if sys.stderr.isatty() and not os.environ.get("EVTOOLS_NO_PROGRESS") and "ipykernel" not in sys.modules:
        with contextlib.suppress(duckdb.Error):
            con.execute("SET enable_progress_bar = true")
    define_macros(con)
    if config is not None:
        con.execute("SET memory_limit = $v", {"v": config.settings.memory_limit})
        if config.settings.threads:
            con.execute("SET threads = $v", {"v": config.settings.threads})
    return con


def define_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The shared scalar definitions of ``sql/macros.sql`` as temporary macros on ``con``."""
    for statement in duckdb.extract_statements(load_sql("macros")):
        con.execute(statement)


@cache
def _spill_dir() -> str:
    """One folder per process where DuckDB may spill when a query exceeds memory_limit; removed at exit, and the
    folders of processes that died without exiting (SIGKILL) are removed by the next one."""
    for old in Path(tempfile.gettempdir()).glob("evtools-spill-*-*"):
        pid = old.name.split("-")[2]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    path = tempfile.mkdtemp(prefix=f"evtools-spill-{os.getpid()}-")
    atexit.register(shutil.rmtree, path, True)
    return path



def open_sources(
    config: Config,
    con: duckdb.DuckDBPyConnection | None = None,
    names: tuple[str, ...] | None = None,
    check: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Register the configured sources (or ``names`` of them) as canonical views on ``con``.

    With ``check``, each view is scanned once for null keys (one aggregate per source). fact_events is registered
    first; the other sources' company_id takes its type, so an id read as text from a csv still joins an integer id
    from parquet (and the other way round).
    """
    con = con or connect(config)
    register_all(
        config,
        names,
        lambda source, company_type: register(con, source, company_type),
        lambda _: con.execute(
            "SELECT column_type FROM (DESCRIBE fact_events) WHERE column_name = 'company_id'"
        ).fetchall()[0][0],
        (lambda source, files: check_nulls(con, source, files)) if check else None,
    )
    return con


def register_all(config: Config, names, register_one, id_type, check=None) -> None:
    """Register the configured sources (or ``names`` of them) on any engine, fact_events first: the others'
    company_id takes fact_events' type (``id_type`` of what ``register_one(source, None)`` returned for it), so an
    id read as text from a csv still joins an integer id from parquet (and the other way round). ``check(source,
    registered)``, when given, scans each for null keys."""
    company_type = None
    for name in sorted(names or tuple(config.sources), key=lambda n: n != "fact_events"):
        source = config.source(name)
        registered = register_one(source, company_type)
        if name == "fact_events":
            company_type = id_type(registered)
        if check:
            check(source, registered)


def register(
    con: duckdb.DuckDBPyConnection, source: Source, company_type: str | None = None
) -> list[str] | None:
    """Define the raw view ``_src_<name>`` and the canonical view ``<name>`` (company_id cast to ``company_type``
    when given); return the parquet files read, if any."""
    raw = f"_src_{source.name}"
    files = _raw_relation(con, source, raw)
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {quote_ident(raw)}").fetchall()}
    present = present_columns(source, types)
    query = canonical_select(source, exp.table_(raw, quoted=True), types, company_type)
    user_type = types.get(source.column("company_id"), "")
    if company_type and user_type.upper() != company_type.upper():
        _check_ids_convert(con, source, raw, company_type)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(source.name)} AS {query.sql(dialect='duckdb')}")
    if source.name == "fact_events":
        _locate(con, source, raw, types, company_type)
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS evtools_columns (source VARCHAR, column_name VARCHAR, user_column VARCHAR)"
    )
    con.execute("DELETE FROM evtools_columns WHERE source = $s", {"s": source.name})
    con.executemany(
        "INSERT INTO evtools_columns VALUES ($1, $2, $3)",
        [[source.name, c.name, source.column(c.name)] for c in present],
    )
    _remember(con, source)
    log.debug("registered %s from %s", source.name, source.location)
    return files


def _remember(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Record which config location the view ``source.name`` was defined from, with its definition as DuckDB
    keeps it, so that ``registered_from`` can tell a view still defined by ``register`` from one replaced since."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS evtools_sources (source VARCHAR, location VARCHAR, definition VARCHAR)")
    con.execute("DELETE FROM evtools_sources WHERE source = $s", {"s": source.name})
    con.execute(
        "INSERT INTO evtools_sources SELECT $s, $l, sql FROM duckdb_views() WHERE view_name = $s AND temporary",
        {"s": source.name, "l": source.location},
    )


def registered_from(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The config location the view ``name`` was registered from by ``register``, or None when it was not, or was
    redefined since (then nothing can be said about what it reads)."""
    try:
        rows = con.execute(
            "SELECT s.location FROM evtools_sources AS s JOIN duckdb_views() AS v "
            "ON v.view_name = s.source AND v.temporary AND v.sql = s.definition WHERE s.source = $s",
            {"s": name},
        ).fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def _locate(con: duckdb.DuckDBPyConnection, source: Source, raw: str, types: dict, company_type: str | None) -> None:
    """Define ``LOCATED`` over the raw view's located twin (``_raw_relation``), or drop it when there is none."""
    located = f"{raw}_located"
    exists = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = $n", {"n": located}
    ).fetchone()[0]
    if not exists:
        con.execute(f"DROP VIEW IF EXISTS {quote_ident(LOCATED)}")
        return
    query = canonical_select(source, exp.table_(located, quoted=True), types, company_type).select(
        exp.alias_(exp.column("_evtools_file", quoted=True), "_file", quoted=True),
        exp.alias_(exp.column("_evtools_row", quoted=True), "_row", quoted=True),
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(LOCATED)} AS {query.sql(dialect='duckdb')}")


def describe(source: Source) -> dict[str, str]:
    """The columns of a source as it lies (the user's names) and their DuckDB types; DataError when unreadable."""
    con = connect()
    try:
        raw = f"_src_{source.name}"
        _raw_relation(con, source, raw)
        return {row[0]: row[1] for row in con.execute(f"DESCRIBE {quote_ident(raw)}").fetchall()}
    finally:
        con.close()


def _check_ids_convert(con: duckdb.DuckDBPyConnection, source: Source, raw: str, company_type: str) -> None:
    """DataError naming the source and a value when its company ids do not convert to fact_events' type (a text id
    in an integer-id csv), instead of a conversion error in the middle of a later query."""
    user = quote_ident(source.column("company_id"))
    bad = fetch_row(
        con,
        f"SELECT CAST({user} AS VARCHAR) FROM {quote_ident(raw)} "
        f"WHERE {user} IS NOT NULL AND TRY_CAST({user} AS {company_type}) IS NULL LIMIT 1",
    )
    if bad:
        raise DataError(
            f"{source.location}: column '{source.column('company_id')}' ({source.name}.company_id): expected ids "
            f"of fact_events' type {company_type}, found '{bad[0]}'"
        )


def available_columns(con, name: str) -> set[str]:
    """Canonical columns the source ``name`` really has (absent optional ones are NULL in its view), on any engine."""
    return engines.of(con).columns(name) or set()


def has_source(con, name: str) -> bool:
    """True when the source ``name`` is registered on ``con`` (any engine)."""
    return engines.of(con).columns(name) is not None


def present_columns(source: Source, types: dict | None) -> list[Column]:
    """The canonical columns a source has: the required ones, and the optional ones whose column it has (with no
    ``types``, as for a printed script: those its mapping names)."""
    if types is None:
        return [c for c in SCHEMA[source.name] if c.required or c.name in source.columns]
    return [c for c in SCHEMA[source.name] if c.required or source.column(c.name) in types]


def canonical_select(
    source: Source, relation: exp.Expression, types: dict | None, company_type: str | None = None
) -> exp.Select:
    """The canonical view of ``source`` over ``relation`` (its table as it lies), as a sqlglot query in DuckDB's
    dialect: every canonical column under its name, from the user's column (``evtools.core.schema`` says how each kind
    is normalised), NULL where the source lacks an optional one; company_id cast to ``company_type`` when given
    and different. ``types`` (the user's column -> its DuckDB type name) checks each column and picks the
    conversion; without them (a printed script) each column is cast to its kind's type, zoned timestamps taken in
    the session's zone (the script sets UTC)."""
    present = present_columns(source, types)
    select = []
    for col in SCHEMA[source.name]:
        if col not in present:
            expression = exp.cast(exp.null(), ABSENT_TYPES[col.kind])
        elif types is None:
            expression = _generic(source, col)
        else:
            expression = _expression(source, col, types)
        user_type = (types or {}).get(source.column("company_id"), "")
        if col.name == "company_id" and company_type and user_type.upper() != company_type.upper():
            expression = exp.cast(expression, company_type)
        select.append(exp.alias_(expression, col.name, quoted=True))
    return sqlglot.select(*select).from_(relation)


def _generic(source: Source, col: Column) -> exp.Expression:
    ref = exp.column(source.column(col.name), quoted=True)
    cast = {"count": "BIGINT", "date": "DATE", "ts": "TIMESTAMP"}.get(col.kind)
    return exp.cast(ref, cast) if cast else ref


def check_nulls(con: duckdb.DuckDBPyConnection, source: Source, files: list[str] | None = None) -> None:
    """Raise DataError naming the column when a key column holds nulls.

    For parquet files whose statistics carry null counts for every key column this reads only the footers;
    otherwise it is one aggregate over the source.
    """
    keys = [c.name for c in SCHEMA[source.name] if c.key]
    if files and _no_nulls_in_stats(con, files, [source.column(k) for k in keys]):
        return
    raise_on_nulls(source, fetch_row(con, null_counts(source).sql(dialect="duckdb")))


def null_counts(source: Source) -> exp.Select:
    """One row: per key column of the source's canonical view, how many of its values are NULL (any dialect)."""
    keys = [c.name for c in SCHEMA[source.name] if c.key]
    counts = [
        exp.alias_(
            exp.func("count", exp.case().when(exp.column(k, quoted=True).is_(exp.null()), exp.Literal.number(1))),
            k,
            quoted=True,
        )
        for k in keys
    ]
    return sqlglot.select(*counts).from_(exp.table_(source.name, quoted=True))


def raise_on_nulls(source: Source, row: tuple) -> None:
    """DataError naming the first key column ``row`` (of ``null_counts``) counts null values in."""
    keys = [c.name for c in SCHEMA[source.name] if c.key]
    for key, n in zip(keys, row, strict=True):
        if n:
            raise DataError(
                f"{source.location}: column '{source.column(key)}' ({source.name}.{key}) has {n} null values; "
                "expected none"
            )


def _no_nulls_in_stats(con: duckdb.DuckDBPyConnection, files: list[str], columns: list[str]) -> bool:
    """True when every file's footer states zero nulls for every one of ``columns``."""
    rows = con.execute(
        "SELECT path_in_schema, count(*) FILTER (WHERE stats_null_count IS NULL), sum(stats_null_count) "
        "FROM parquet_metadata($files) GROUP BY path_in_schema",
        {"files": files},
    ).fetchall()
    stats = {name: (unknown, nulls) for name, unknown, nulls in rows}
    return all(c in stats and stats[c][0] == 0 and stats[c][1] == 0 for c in columns)


def _raw_relation(con: duckdb.DuckDBPyConnection, source: Source, name: str) -> list[str] | None:
    if source.catalog:
        raise DataError(
            f"{source.location}: a table of a Spark catalog or a database, and this command reads with DuckDB; "
            "quality, reconcile and explain run where the table is (--engine spark or sql)"
        )
    con.execute(f"DROP VIEW IF EXISTS {quote_ident(name + '_located')}")
    if source.is_duckdb:
        _attach(con, source, name)
        return None
    files, fmt, hive = data_files(source)
    try:
        if fmt == "parquet":
            rel = con.read_parquet(files, hive_partitioning=hive, union_by_name=hive)
            taken = {c.lower() for c in rel.columns}
            if source.name == "fact_events" and not ({*_PLACE, *_PLACE.values()} & taken):
                places = ", ".join(f"{virtual} AS {alias}" for alias, virtual in _PLACE.items())
                rel.project(f"*, {places}").create_view(name + "_located", replace=True)
        elif fmt == "csv":
            rel = con.read_csv(files)
        else:
            rel = con.read_json(files, format="newline_delimited")
        rel.create_view(name, replace=True)
    except duckdb.Error as e:
        raise DataError(f"{source.location}: cannot read as {fmt}: {_first_line(e)}") from e
    _check_unique_columns(con, source, files[0], fmt)
    return files if fmt == "parquet" else None


def _check_unique_columns(con: duckdb.DuckDBPyConnection, source: Source, first: str, fmt: str) -> None:
    """DataError when a column the mapping uses occurs twice in the file's header (DuckDB would silently read the
    second as NAME_1)."""
    if fmt == "parquet":
        rows = con.execute(
            "SELECT name FROM parquet_schema($f) WHERE num_children IS NULL", {"f": first}
        ).fetchall()
        names = [r[0] for r in rows]
    elif fmt == "csv":
        names = list(
            con.execute(
                "SELECT * FROM read_csv($f, header = false, all_varchar = true) LIMIT 1", {"f": first}
            ).fetchone()
            or ()
        )
    else:
        return
    used = {source.column(c.name) for c in SCHEMA[source.name]}
    twice = sorted({n for n in names if n in used and names.count(n) > 1})
    if twice:
        raise DataError(
            f"{source.location}: column '{twice[0]}' occurs {names.count(twice[0])} times in {Path(first).name}; "
            "expected each mapped column once"
        )


def _attach(con: duckdb.DuckDBPyConnection, source: Source, name: str) -> None:
    if not source.path.is_file():
        raise DataError(f"{source.location}: DuckDB file not found: {source.path}")
    alias = f"_db_{source.name}"
    con.execute(f"DETACH DATABASE IF EXISTS {quote_ident(alias)}")
    try:
        con.execute(f"ATTACH $path AS {quote_ident(alias)} (READ_ONLY)", {"path": str(source.path)})
    except duckdb.Error as e:
        raise DataError(f"{source.location}: cannot open as a DuckDB database: {_first_line(e)}") from e
    parts = [quote_ident(alias), *(quote_ident(p) for p in source.table.split("."))]
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS SELECT * FROM {'.'.join(parts)}")
    except duckdb.Error as e:
        raise DataError(f"{source.location}: table '{source.table}' not found in {source.path}") from e


def data_files(source: Source) -> tuple[list[str], str, bool]:
    """The files a location names, their format, and whether it is a hive-partitioned folder."""
    path, hive = source.path, source.path.is_dir()
    found = files_at(path, lambda p: p.suffix.lower() in FORMATS)
    if found is None:
        raise DataError(f"{source.location}: file not found (looked for {path})")
    if not found:
        raise DataError(f"{source.location}: no data file matches (looked for {path})")
    fmts = {_format(source, p) for p in found}
    if len(fmts) > 1:
        raise DataError(f"{source.location}: expected one file format, found {', '.join(sorted(fmts))}")
    return [str(p) for p in found], fmts.pop(), hive


def _format(source: Source, path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in FORMATS:
        return FORMATS[suffixes[-1]]
    raise DataError(
        f"{source.location}: cannot tell the format of {path.name}; expected .parquet, .csv or .jsonl"
    )


def user_column(source: Source, col: Column, types: dict) -> tuple[str, Callable[[str], DataError]]:
    """The user's name for ``col`` (DataError when the source lacks it) and a maker of its wrong-type error."""
    user = source.column(col.name)
    if user not in types:
        raise DataError(
            f"{source.location}: column '{user}' ({source.name}.{col.name}) not found; "
            f"found columns: {', '.join(types)}"
        )

    def wrong(expected: str) -> DataError:
        found = types[user] if isinstance(types[user], str) else types[user].simpleString()
        return DataError(
            f"{source.location}: column '{user}' ({source.name}.{col.name}): expected {expected}, found {found}"
        )

    return user, wrong


def _expression(source: Source, col: Column, types: dict[str, str]) -> exp.Expression:
    user, wrong = user_column(source, col, types)
    found = types[user].upper()
    ref = exp.column(user, quoted=True)

    if col.kind == "id":
        if found.endswith("]") or found.startswith(("STRUCT", "MAP", "LIST", "UNION")):
            raise wrong("an integer or string id")
        return ref
    if col.kind == "count":
        if found not in _INTEGER:
            raise wrong("an integer type")
        return exp.cast(ref, "BIGINT")
    if col.kind == "date":
        if found == "DATE":
            return ref
        if found in _TIMESTAMP:
            return exp.cast(ref, "DATE")
        if found in _ZONED:
            return exp.cast(_utc(ref), "DATE")
        raise wrong("a DATE or a timestamp")
    if col.kind == "version":
        return _version(ref, found, wrong)
    if found in _TIMESTAMP:
        return exp.cast(ref, "TIMESTAMP")
    if found in _ZONED:
        return _utc(ref)
    raise wrong("a timestamp")


def _version(ref: exp.Expression, found: str, wrong: Callable[[str], DataError]) -> exp.Expression:
    """A version value keeps its order: numbers and text as they are, dates and timestamps as UTC timestamps."""
    if found in _INTEGER or found.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL", "VARCHAR")):
        return ref
    if found == "DATE" or found in _TIMESTAMP:
        return exp.cast(ref, "TIMESTAMP")
    if found in _ZONED:
        return _utc(ref)
    raise wrong("a number, a string, a date or a timestamp")


def _utc(ref: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="timezone", expressions=[exp.Literal.string("UTC"), ref])


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0]
