"""``evtools sql --script``: one complete, ordered, runnable script of an analysis, in a warehouse's dialect.

A script holds, in order: the session's time zone (UTC), the canonical views over the user's tables (from the
config's column mapping: ``table:SCHEMA.NAME`` sources, else a table named after the source), every step of the
analysis as ``evtools.engines.pipeline.analysis`` orders it (its temporary tables), and the final selects (the results).
Parameters are inlined as literals written by ``literal``, the one quoting helper, or, with ``bind``, left as the
dialect's bind markers (``%(name)s`` for PostgreSQL's drivers, ``:name``, ``@name`` ...) for the client to bind;
the header lists them with their values either way.

Without a connection the script cannot see the tables' types: each column is cast to its kind's type (zoned
timestamps read in the session's zone, which the script sets to UTC), and the optional columns it reads are those
the mapping names (name one under its own name to have it read: ``event_ts = "event_ts"``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlglot
from sqlglot import exp

from evtools.core.config import Config
from evtools.core.errors import EvtoolsError
from evtools.engines import dialects, pipeline
from evtools.engines.queries import load_sql
from evtools.engines.sources import canonical_select, present_columns

ANALYSES = ("quality", "reconcile", "refresh")
# statements that make a session read and write timestamps in UTC, per dialect (none needed: BigQuery, T-SQL)
SESSION_UTC = {
    "postgres": "SET TIME ZONE 'UTC'",
    "duckdb": "SET TimeZone = 'UTC'",
    "spark": "SET TIME ZONE 'UTC'",
    "databricks": "SET TIME ZONE 'UTC'",
    "snowflake": "ALTER SESSION SET TIMEZONE = 'UTC'",
}
# parameters whose value is an expression rather than a literal (refresh: up to the newest row, now)
DEFAULTS = {
    "until": "(SELECT max(ingested_at) FROM fact_events)",
    "watermark": "(SELECT max(ingested_at) FROM fact_events)",
    "now": "CAST(current_timestamp AS TIMESTAMP)",
}


def literal(value: Any) -> exp.Expression:
    """``value`` as a SQL literal (a sqlglot expression, written per dialect): NULL, TRUE/FALSE, a number, a string
    (quotes escaped by the dialect's rule), a DATE or TIMESTAMP cast of its ISO text. Anything else is refused."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise EvtoolsError(f"sql --script: {value} has no SQL literal")
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, str):
        if "\x00" in value:
            raise EvtoolsError("sql --script: a value with a NUL character has no SQL literal")
        return exp.Literal.string(value)
    raise EvtoolsError(f"sql --script: cannot write a {type(value).__name__} as a SQL literal")


def parameters(config: Config, analysis: str) -> dict[str, Any]:
    """The values an analysis's queries take, from the config (reconciliation over all keys)."""
    from evtools.analyses import quality, reconcile

    values: dict[str, Any] = {
        "offset_hours": config.settings.dashboard_computed_offset_hours,
        "n": 10,
        "min_share": quality.REPLAY_SHARE,
    }
    if analysis == "reconcile":
        values.update(reconcile.parameters(config))
    if analysis == "refresh":
        values["strategy"] = "touched"
    return values


def script(config: Config, analysis: str, dialect: str, bind: bool = False) -> str:
    """The script of ``analysis`` (quality | reconcile | refresh) for the sources of ``config`` in ``dialect``."""
    from evtools.analyses import reconcile

    if analysis not in ANALYSES:
        raise EvtoolsError(f"sql --script: expected one of {', '.join(ANALYSES)}, found '{analysis}'")
    if dialect not in dialects.DIALECTS:
        raise EvtoolsError(f"sql --dialect: expected one of {', '.join(dialects.DIALECTS)}, found '{dialect}'")
    names = ("fact_events",) if analysis == "refresh" else tuple(config.sources)
    has = {name: {c.name for c in present_columns(config.source(name), None)} for name in names}
    zones = reconcile.zones(config) if "event_ts" in has["fact_events"] else []
    steps = pipeline.analysis(analysis, "dashboard" in has, bool(zones), "load_id" in has["fact_events"])
    given = pipeline.SOURCES | ({pipeline.ZONES} if zones else set())
    pipeline.check(steps, given)
    values = parameters(config, analysis)
    statements: list[exp.Expression] = []
    for name in names:
        statements += _local(_view(config, name), dialect)
    if analysis == "refresh":
        statements.append(exp.Create(this=exp.table_("agg"), kind="SCHEMA", exists=True))
    if zones:
        statements += _local(_zones(zones), dialect)
    needed: set[str] = set()
    for step in steps:
        for statement in dialects.statements(step, dialect):
            needed |= {p.name for p in statement.find_all(exp.Placeholder)}
            statements.append(statement if bind else _inline(statement, values))
    missing = needed - values.keys() - DEFAULTS.keys()
    if missing:
        raise EvtoolsError(f"sql --script {analysis}: no value for {', '.join(sorted(missing))}")
    header = _header(config, analysis, dialect, steps, {k: values.get(k, DEFAULTS.get(k)) for k in sorted(needed)}, bind)
    session = [SESSION_UTC[dialect]] if dialect in SESSION_UTC else []
    body = ";\n\n".join(session + [dialects.generate(s, dialect, pretty=True) for s in statements])
    return header + body + ";\n"


def _view(config: Config, name: str) -> exp.Expression:
    """``CREATE OR REPLACE TEMP VIEW <name>`` over the user's table, through the column mapping."""
    source = config.source(name)
    schema, _, table = (source.catalog or name).rpartition(".")
    relation = exp.table_(table, db=schema or None, quoted=True)
    query = canonical_select(source, relation, None)
    return exp.Create(
        this=exp.table_(name),
        kind="VIEW",
        replace=True,
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def _zones(zones: list[str]) -> exp.Expression:
    """``CREATE OR REPLACE TEMP TABLE _zones`` with the candidate zones and their ranks (see reconcile.zone_table)."""
    rows = [exp.tuple_(literal(z), literal(i)) for i, z in enumerate(zones, start=1)]
    values = exp.Values(expressions=rows, alias=exp.TableAlias(this=exp.to_identifier("z"), columns=[exp.to_identifier("zone"), exp.to_identifier("pos")]))
    query = sqlglot.select("zone", "pos").from_(values)
    return exp.Create(
        this=exp.table_(pipeline.ZONES),
        kind="TABLE",
        replace=True,
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def _local(statement: exp.Expression, dialect: str) -> list[exp.Expression]:
    return dialects.split(dialects.rewrite(statement, dialect), dialect)


def _inline(statement: exp.Expression, values: dict[str, Any]) -> exp.Expression:
    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            if node.name in values:
                return literal(values[node.name])
            return sqlglot.parse_one(DEFAULTS[node.name], read="duckdb")
        return node

    return statement.transform(substitute, copy=True)


def _header(config: Config, analysis: str, dialect: str, steps: list[str], values: dict, bind: bool) -> str:
    lines = [
        f"-- evtools {analysis}, for {dialect}: one script, run top to bottom in one session.",
        f"-- Sources: {', '.join(f'{n} = {s.location}' for n, s in config.sources.items())} (config {config.path.name})",
        f"-- Steps: {', '.join(steps)}.",
        "-- Parameters " + ("(bind them in your client):" if bind else "(inlined):"),
    ]
    lines += [f"--   {name} = {value!r}" for name, value in values.items()]
    first = load_sql(steps[-1]).splitlines()[0] if steps else ""
    lines.append(f"-- The last result: {first.removeprefix('-- ')}")
    return "\n".join(lines) + "\n\n"
