"""Job-run logs read by DuckDB, where they lie, into one canonical table ``runs``.

Formats (``auto`` tells them apart by content):
- ``generic``: a csv or json/jsonl file of runs. Each canonical column is the one the mapping names
  (``[runs.columns]`` in the config, or ``--column NAME=COLUMN``; job may name several columns, joined with '.'),
  else the first of its usual names present (``USUAL``, case-insensitive).
- ``dbt``: dbt's run_results.json, one file per invocation: each result is one run of its node (job = unique_id,
  run_id = invocation_id, seconds = execution_time, rows = adapter_response.rows_affected, bytes =
  adapter_response.bytes_processed where the adapter reports them).
- ``airflow``: task instances, as a csv (the task_instance table or the UI's list: dag_id, task_id, start_date,
  end_date, duration, state) or the REST API's JSON (``{"task_instances": [...]}``, one file per page). job =
  dag_id.task_id.
- ``evtools``: evtools' own run log (command, started_at, seconds, rows_read, bytes_read, status).

The table ``runs`` (one row per run; sql/runs_normalise.sql):
- job, run_id (text), run_no: the run's position among its job's runs by started_at, from 1.
- started_at, finished_at (UTC timestamps; either is derived from the other and seconds when missing).
- seconds: the duration (the log's, else finished_at - started_at); a generic log's duration column is read in
  ``duration_unit`` (s, ms, us, min, h), by default the unit its name ends with (``_ms``, ...), else seconds.
- rows, bytes, calls: the run's volume and its calls (queries, writes or batches), where the log has them.
- status: ok | failed | timeout | skipped | unfinished | other, from the log's status (status_raw).

A log that cannot be read or mapped raises ``DataError`` naming the file, the column and what was expected.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from evtools.core.errors import DataError
from evtools.core.fsutil import files_at
from evtools.core.schema import RUN_COLUMNS, UNITS
from evtools.core.schema import RUN_FORMATS as FORMATS
from evtools.engines.queries import execute, first_row, quote_ident

log = logging.getLogger(__name__)

_SUFFIX_UNITS = {
    "_ms": "ms",
    "_millis": "ms",
    "_milliseconds": "ms",
    "_us": "us",
    "_micros": "us",
    "_min": "min",
    "_mins": "min",
    "_minutes": "min",
    "_h": "h",
    "_hours": "h",
}
_VOLUME = {
    "rows": ("rows", "rows_processed", "rows_written", "rows_read", "rows_affected", "records", "row_count",
             "record_count", "num_rows", "volume"),
    "bytes": ("bytes", "bytes_processed", "bytes_read", "bytes_written", "bytes_scanned", "bytes_billed"),
    "calls": ("calls", "queries", "query_count", "statements", "batches", "requests", "api_calls", "writes",
              "round_trips"),
}  # fmt: skip
USUAL: dict[str, tuple] = {
    "job": ("job", "job_name", "job_id", "task", "task_name", "name", "model", "pipeline", "step", "command"),
    "run_id": ("run_id", "run", "invocation_id", "execution_id", "attempt_id", "id"),
    "started_at": ("started_at", "start_time", "start_date", "start_ts", "started", "start", "begin_time"),
    "finished_at": ("finished_at", "end_time", "end_date", "ended_at", "completed_at", "end_ts", "finished", "end",
                    "stop_time"),
    "seconds": ("seconds", "duration_seconds", "duration_s", "duration_sec", "elapsed_seconds", "duration", "elapsed",
                "runtime", "run_time", "execution_time", "duration_ms", "elapsed_ms", "runtime_ms"),
    **_VOLUME,
    "status": ("status", "state", "outcome", "result", "exit_status"),
}  # fmt: skip
PRESETS: dict[str, dict[str, tuple]] = {
    "generic": USUAL,
    "airflow": {
        "job": (("dag_id", "task_id"),),
        "run_id": ("run_id", "dag_run_id", "execution_date", "logical_date"),
        "started_at": ("start_date",),
        "finished_at": ("end_date",),
        "seconds": ("duration",),
        **_VOLUME,
        "status": ("state",),
    },
    "evtools": {
        "job": ("command",),
        "run_id": (),
        "started_at": ("started_at",),
        "finished_at": (),
        "seconds": ("seconds",),
        "rows": ("rows_read",),
        "bytes": ("bytes_read",),
        "calls": (),
        "status": ("status",),
    },
}
_JSON = {".json", ".jsonl", ".ndjson"}
_CSV = {".csv", ".tsv", ".txt"}
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
            "FLOAT", "DOUBLE", "DECIMAL")  # fmt: skip
_TEXT = ("VARCHAR", "JSON", '"NULL"', "NULL")


@dataclass(frozen=True)
class LogSpec:
    """What to read: ``paths`` (files, globs or folders), ``format``, ``columns`` (canonical -> the log's column,
    or a list of columns for job) and ``duration_unit`` (None: from the duration column's name)."""

    paths: tuple[str, ...]
    format: str = "auto"
    columns: dict = field(default_factory=dict)
    duration_unit: str | None = None


@dataclass(frozen=True)
class LogInfo:
    """What was read: the files, the format found and the column each canonical column came from."""

    files: tuple[str, ...]
    format: str
    mapping: dict
    runs: int
    untimed: int = 0  # rows left out: neither a start nor an end time (queued, never started)

    @property
    def where(self) -> str:
        return self.files[0] if len(self.files) == 1 else f"{len(self.files)} files ({self.files[0]}, ...)"


def read_log(con: duckdb.DuckDBPyConnection, spec: LogSpec) -> LogInfo:
    """Read the log into the temp table ``runs``; DataError when it cannot be read or mapped."""
    check_spec(spec)
    files = resolve(spec.paths)
    where = files[0] if len(files) == 1 else f"{files[0]} (and {len(files) - 1} more files)"
    kind = _kind(files, where)
    fmt, shape = _detect(con, files, kind, where, spec.format)
    params = {"files": files, "size": _largest(files)}
    if fmt == "dbt":
        try:
            execute(con, "runs_dbt", params)
        except duckdb.Error as e:
            raise DataError(f"{where}: cannot read as dbt run_results.json: {_first_line(e)}") from e
        mapping = {"job": "unique_id", "run_id": "metadata.invocation_id", "seconds": "execution_time"}
    else:
        if kind == "json":
            _records(
                con, "runs_airflow_api" if shape == "task_instances" else "runs_records_json", params, where
            )
        if fmt == "auto":
            fmt = _records_format(con)
        mapping = _map_records(con, where, fmt, spec)
    execute(con, "runs_normalise")
    rows, n = first_row(con, "runs_count")
    if rows == 0:
        raise DataError(f"{where}: no runs in the log (expected one row per run)")
    if n == 0:
        raise DataError(
            f"{where}: none of its {rows} rows has a start or an end time; expected one on every run"
        )
    log.debug("read %s runs from %s as %s", n, where, fmt)
    return LogInfo(tuple(files), fmt, mapping, int(n), int(rows - n))


def check_spec(spec: LogSpec) -> None:
    if spec.format not in FORMATS:
        raise DataError(f"runs: format '{spec.format}': expected one of {', '.join(FORMATS)}")
    if spec.duration_unit is not None and spec.duration_unit not in UNITS:
        raise DataError(f"runs: duration unit '{spec.duration_unit}': expected one of {', '.join(UNITS)}")
    for key, value in spec.columns.items():
        if key not in RUN_COLUMNS:
            raise DataError(f"runs: unknown column key '{key}'; expected one of: {', '.join(RUN_COLUMNS)}")
        names = [value] if isinstance(value, str) else value
        if not names or not all(isinstance(v, str) and v for v in names) or (key != "job" and len(names) > 1):
            want = "a column name or a list of names" if key == "job" else "a column name"
            raise DataError(f"runs: column mapping {key}: expected {want}, found {value!r}")


def resolve(paths: Iterable[str]) -> list[str]:
    """The files the paths name: a file, a glob, or a folder (its .json, .jsonl and .csv files, recursively)."""
    found: list[str] = []
    for raw in paths:
        files = files_at(Path(raw).expanduser(), lambda p: _suffix(p) in _JSON | _CSV)
        if files is None:
            raise DataError(f"{raw}: run log not found")
        if not files:
            raise DataError(f"{raw}: no run log file matches (expected .csv, .json or .jsonl files)")
        found += [str(f) for f in files]
    return list(dict.fromkeys(found))


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else ""


def _kind(files: list[str], where: str) -> str:
    kinds = {
        "json" if _suffix(Path(f)) in _JSON else "csv" if _suffix(Path(f)) in _CSV else "?" for f in files
    }
    if "?" in kinds:
        odd = next(f for f in files if _suffix(Path(f)) not in _JSON | _CSV)
        raise DataError(f"{odd}: cannot tell the run log's format; expected .csv, .json or .jsonl")
    if len(kinds) > 1:
        raise DataError(f"{where}: expected one file format, found csv and json files")
    return kinds.pop()


def _detect(con, files: list[str], kind: str, where: str, wanted: str) -> tuple[str, str]:
    """(format, shape): shape is 'records' (one run per row or line), 'dbt' or 'task_instances'. A csv log is read
    into _runs_records here, and its format ('auto' until its columns are known) told from them."""
    if kind == "csv":
        if wanted == "dbt":
            raise DataError(
                f"{where}: not a dbt run_results.json (expected top-level keys metadata and results)"
            )
        _records(con, "runs_records_csv", {"files": files}, where)
        return wanted, "records"
    try:
        row = con.execute(
            "SELECT json_keys(json) FROM read_json_objects($f, format = 'auto', maximum_object_size = $m) "
            "WHERE json_type(json) = 'OBJECT' LIMIT 1",
            {"f": files, "m": _largest(files)},
        ).fetchall()
    except duckdb.Error as e:
        raise DataError(f"{where}: cannot read as JSON: {_first_line(e)}") from e
    keys = row[0][0] if row else []
    if {"metadata", "results"} <= set(keys):
        return _agree(where, wanted, "dbt", "dbt run_results.json"), "dbt"
    if "task_instances" in keys:
        return _agree(where, wanted, "airflow", "Airflow task instances"), "task_instances"
    if not keys:
        raise DataError(
            f"{where}: expected JSON objects (one per run, or a dbt or Airflow document), found none"
        )
    if wanted == "dbt":
        raise DataError(f"{where}: not a dbt run_results.json (expected top-level keys metadata and results)")
    return wanted, "records"


def _records_format(con) -> str:
    """generic, airflow or evtools, from the columns of _runs_records."""
    names = {r[0].lower() for r in con.execute("DESCRIBE _runs_records").fetchall()}
    if {"dag_id", "task_id"} <= names:
        return "airflow"
    if {"command", "seconds", "started_at", "status"} <= names:
        return "evtools"
    return "generic"


def _largest(files: list[str]) -> int:
    """A JSON object can be as large as the largest file (a dbt run_results.json is one object); at least 16 MB."""
    return max([16 << 20] + [Path(f).stat().st_size + 1024 for f in files])


def _agree(where: str, wanted: str, found: str, what: str) -> str:
    if wanted not in ("auto", found):
        raise DataError(f"{where}: --format {wanted}, but the file is {what}")
    return found


def _records(con, name: str, params: dict, where: str) -> None:
    """Run sql/<name>.sql, which reads the log into the table _runs_records (one row per run)."""
    try:
        execute(con, name, params)
    except duckdb.Error as e:
        kind = "csv" if name.endswith("csv") else "JSON"
        raise DataError(f"{where}: cannot read as {kind}: {_first_line(e)}") from e


def _map_records(con, where: str, fmt: str, spec: LogSpec) -> dict:
    """Create ``runs_raw`` from ``_runs_records`` through the mapping; return canonical -> the log's column(s)."""
    types = {r[0]: r[1] for r in con.execute("DESCRIBE _runs_records").fetchall()}
    lower = {name.lower(): name for name in types}
    preset = PRESETS[fmt]
    chosen: dict = {}
    for key in RUN_COLUMNS:
        if key in spec.columns:
            value = spec.columns[key]
            names = [value] if isinstance(value, str) else list(value)
            for name in names:
                if name not in types:
                    raise DataError(
                        f"{where}: column '{name}' (runs.{key}) not found; found columns: {', '.join(types)}"
                    )
            chosen[key] = value
            continue
        for candidate in preset.get(key, ()):
            names = candidate if isinstance(candidate, tuple) else (candidate,)
            if all(n.lower() in lower for n in names):
                found = [lower[n.lower()] for n in names]
                chosen[key] = found[0] if len(found) == 1 else found
                break
    _require(where, fmt, chosen, types)
    select, checks = [], []
    for key in RUN_COLUMNS:
        expression, parsed = _expression(where, key, chosen.get(key), types, spec.duration_unit)
        select.append(exp.alias_(expression, key, quoted=True))
        if parsed is not None:
            select.append(exp.alias_(parsed, f"_given_{key}", quoted=True))
            checks.append(key)
    select.append(exp.alias_(exp.cast(exp.null(), "VARCHAR"), "outcome", quoted=True))
    query = sqlglot.select(*select).from_(exp.to_identifier("_runs_records", quoted=True))
    params = {} if "job" in chosen else {"job": Path(where.split(" (")[0]).name.split(".")[0]}
    con.execute(f"CREATE OR REPLACE TEMP TABLE runs_raw AS {query.sql(dialect='duckdb')}", params)
    for key in checks:
        _check_parsed(con, where, key, chosen[key])
    return chosen


def _require(where: str, fmt: str, chosen: dict, types: dict) -> None:
    hint = "; map it with --column {k}=COLUMN or [runs.columns] in the config"
    found = f"found columns: {', '.join(types)}"
    preset = PRESETS[fmt]
    if "started_at" not in chosen and "finished_at" not in chosen:
        tried = ", ".join(preset["started_at"])
        raise DataError(
            f"{where}: cannot map the run log: no start time column (tried {tried}); {found}"
            + hint.format(k="started_at")
        )
    if "seconds" not in chosen and not {"started_at", "finished_at"} <= chosen.keys():
        tried = ", ".join(preset["seconds"])
        raise DataError(
            f"{where}: cannot map the run log: no duration column (tried {tried}) and not both start and end "
            f"times; {found}" + hint.format(k="seconds")
        )


def _expression(where: str, key: str, source, types: dict, unit: str | None):
    """(typed expression for canonical ``key``, the expression whose NULLs mean 'not given' when text is parsed)."""
    kinds = {"started_at": "ts", "finished_at": "ts", "seconds": "duration", "rows": "number", "bytes": "number",
             "calls": "number"}  # fmt: skip
    kind = kinds.get(key, "text")
    if source is None:
        if key == "job":
            return exp.Placeholder(this="job"), None
        return exp.cast(exp.null(), {"text": "VARCHAR", "ts": "TIMESTAMP"}.get(kind, "DOUBLE")), None
    if isinstance(source, list):
        parts = [exp.cast(exp.column(n, quoted=True), "VARCHAR") for n in source]
        return exp.func("concat_ws", exp.Literal.string("."), *parts), None
    ref = exp.column(source, quoted=True)
    found = types[source].upper()
    numeric = found.startswith(_NUMERIC)
    text = found in _TEXT
    if kind == "text":
        if found.startswith(("STRUCT", "MAP", "UNION")) or found.endswith("]"):
            raise _wrong(where, key, source, "text or a number", types[source])
        return exp.cast(ref, "VARCHAR"), None
    if kind == "ts":
        if found.startswith("TIMESTAMP WITH TIME ZONE") or found == "TIMESTAMPTZ":
            return _utc(ref), None
        if found.startswith(("TIMESTAMP", "DATE")):
            return exp.cast(ref, "TIMESTAMP"), None
        if numeric:  # epoch seconds, or milliseconds when above 1e11
            epoch = exp.If(this=ref > exp.Literal.number(1e11), true=ref / 1000, false=ref)
            return _utc(exp.func("to_timestamp", exp.cast(epoch, "DOUBLE"))), None
        if text:
            return _utc(exp.TryCast(this=ref, to=exp.DataType.build("TIMESTAMPTZ"))), ref
        raise _wrong(where, key, source, "timestamps", types[source])
    factor = UNITS[unit or _unit_of(source)] if kind == "duration" else 1.0
    if kind == "duration" and found.startswith("INTERVAL"):
        return exp.func("epoch", ref), None
    if numeric:
        return exp.cast(ref, "DOUBLE") * exp.Literal.number(factor) if factor != 1 else exp.cast(
            ref, "DOUBLE"
        ), None
    if text:
        value = exp.TryCast(this=ref, to=exp.DataType.build("DOUBLE"))
        return (value * exp.Literal.number(factor) if factor != 1 else value), ref
    raise _wrong(
        where, key, source, "numbers" + (" or an interval" if kind == "duration" else ""), types[source]
    )


def _unit_of(column: str) -> str:
    name = column.lower()
    return next((u for suffix, u in _SUFFIX_UNITS.items() if name.endswith(suffix)), "s")


def _utc(ref: exp.Expression) -> exp.Expression:
    return exp.cast(exp.Anonymous(this="timezone", expressions=[exp.Literal.string("UTC"), ref]), "TIMESTAMP")


def _wrong(where: str, key: str, column: str, expected: str, found: str) -> DataError:
    return DataError(f"{where}: column '{column}' (runs.{key}): expected {expected}, found {found}")


def _check_parsed(con, where: str, key: str, column: str) -> None:
    given = quote_ident(f"_given_{key}")
    row = con.execute(
        f"SELECT count(*), any_value(CAST({given} AS VARCHAR)) FROM runs_raw "
        f"WHERE {given} IS NOT NULL AND trim(CAST({given} AS VARCHAR)) <> '' AND {quote_ident(key)} IS NULL"
    ).fetchall()[0]
    if row[0]:
        expected = "timestamps" if key.endswith("_at") else "numbers"
        raise DataError(
            f"{where}: column '{column}' (runs.{key}): expected {expected}, found '{row[1]}' "
            f"({row[0]} values unreadable)"
        )


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0]
