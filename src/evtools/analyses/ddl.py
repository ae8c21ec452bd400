"""The layout recommendation as DDL for the user's warehouse, from one spec.

Partition (or cluster first) by the date column, cluster (sort) by the company column: the daily job and its
incremental window then read only the partitions of the dates they need, and a single-company query reads only the
row groups holding that company.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from evtools.analyses import dbt_model
from evtools.core.config import Config, Source
from evtools.core.errors import EvtoolsError

_TABLE_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")

# the statements sqlglot can check, by its dialect name (Synapse's table options are beyond its T-SQL grammar)
DIALECTS = {
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "databricks_liquid": "databricks",
    "spark": "spark",
    "postgres": "postgres",
}


@dataclass(frozen=True)
class LayoutSpec:
    table: str = "fact_events"
    date_column: str = "date"
    company_column: str = "company_id"
    first_date: str = "2025-01-01"
    last_date: str = "2025-12-31"
    source: Source | None = None  # fact_events with the user's column mapping (default: canonical names)

    def __post_init__(self):
        parts = self.table.split(".")
        if not 1 <= len(parts) <= 3 or not all(_TABLE_PART.fullmatch(p) for p in parts):
            raise EvtoolsError(
                f"--table {self.table!r}: not a table name; expected [catalog.][schema.]table, each part letters, "
                "digits and underscores"
            )

    @classmethod
    def from_config(
        cls, config: Config, table: str = "fact_events", first: str = "2025-01-01", last: str = "2025-12-31"
    ) -> LayoutSpec:
        source = config.source("fact_events")
        return cls(table, source.column("date"), source.column("company_id"), first, last, source)


# words reserved in standard SQL and the warehouses' dialects: a column so named is quoted
RESERVED = frozenset(
    """all and any array as asc between both by case cast check collate column constraint create cross cube current
    current_date current_time current_timestamp current_user default delete desc distinct drop else end except exists
    extract false fetch for foreign from full grant group grouping having in inner insert intersect interval into is
    join lateral leading left like limit natural new not null of offset on only or order outer over partition primary
    qualify range references right rollup row rows select session_user set some table tablesample then to trailing
    true union unique unnest update user using values when where window with within""".split()  # noqa: SIM905
)


def ident(name: str, dialect: str) -> str:
    """A column name for ``dialect``: as written when it is a plain identifier that no dialect reserves (the
    warehouse then resolves it as it resolved the user's own DDL, case rules included), else quoted by sqlglot in
    the dialect's way: a name never breaks out of the statement."""
    reserved = RESERVED | getattr(
        sqlglot.Dialect.get_or_raise(dialect).generator_class, "RESERVED_KEYWORDS", set()
    )
    if _TABLE_PART.fullmatch(name) and name.lower() not in reserved:
        return name
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def table(name: str, dialect: str, suffix: str = "") -> str:
    """A (qualified) table name for ``dialect``, ``suffix`` added to its last part, each part through ``ident``."""
    parts = name.split(".")
    parts[-1] += suffix
    return ".".join(ident(p, dialect) for p in parts)


# name -> (the dialect whose quoting applies, the statement with {t} table, {new} new table, {d} date, {c} company);
# 'dbt' is the model of evtools.dbt_model
STATEMENTS = {
    "snowflake": ("snowflake", "ALTER TABLE {t} CLUSTER BY ({d}, {c});"),
    "bigquery": ("bigquery", "CREATE TABLE {new}\nPARTITION BY {d}\nCLUSTER BY {c}\nAS SELECT * FROM {t};"),
    "databricks": (
        "databricks",
        "CREATE TABLE {new}\nUSING DELTA\nPARTITIONED BY ({d})\nAS SELECT * FROM {t};\nOPTIMIZE {new} ZORDER BY ({c});",
    ),
    "databricks_liquid": ("databricks", "CREATE TABLE {new}\nCLUSTER BY ({d}, {c})\nAS SELECT * FROM {t};"),
    "spark": (
        "spark",
        "CREATE TABLE {new}\nUSING PARQUET\nPARTITIONED BY ({d})\nAS SELECT * FROM {t} DISTRIBUTE BY {d} SORT BY {c};",
    ),
    "synapse": (
        "tsql",
        "CREATE TABLE {new}\nWITH (\n    DISTRIBUTION = HASH({c}),\n    CLUSTERED COLUMNSTORE INDEX,\n"
        "    PARTITION ({d} RANGE RIGHT FOR VALUES ({boundaries}))\n)\nAS SELECT * FROM {t};",
    ),
    "postgres": (
        "postgres",
        "CREATE TABLE {new} (LIKE {t} INCLUDING DEFAULTS) PARTITION BY RANGE ({d});\n{partitions}\n"
        "CREATE TABLE {default} PARTITION OF {new} DEFAULT;\n"
        "INSERT INTO {new} SELECT * FROM {t} ORDER BY {d}, {c};\n"
        "CREATE INDEX ON {new} ({c}, {d});\nANALYZE {new};",
    ),
    # Python takes the names as string literals (json.dumps)
    "spark_dataframe": (
        "python",
        "(spark.table({t})\n    .repartition({d})\n    .sortWithinPartitions({c})\n"
        '    .write.partitionBy({d})\n    .mode("overwrite")\n    .saveAsTable({new}))',
    ),
}


def ddl(spec: LayoutSpec) -> dict[str, str]:
    """Dialect -> statement(s); plus 'synapse' (dedicated pool), 'spark_dataframe' (PySpark) and 'dbt' (the
    aggregate as a complete incremental model, ``evtools.analyses.dbt_model``). Every name goes through ``ident`` for the
    statement's dialect (T-SQL's for Synapse), or is a string literal; the table name was checked (``LayoutSpec``).

    PostgreSQL: a table partitioned by month ranges of the date column over the data's span, a DEFAULT partition
    for the dates outside it (later months, stray dates), the rows copied in date and company order, an index on
    (company, date), and the statistics gathered."""
    months = _month_starts(spec.first_date, spec.last_date)
    ends = months[1:] + [_next_month(months[-1])]
    out = {}
    for name, (dialect, template) in STATEMENTS.items():
        if dialect == "python":
            names = {
                "t": json.dumps(spec.table),
                "new": json.dumps(spec.table + "_by_date"),
                "d": json.dumps(spec.date_column),
                "c": json.dumps(spec.company_column),
            }
        else:
            names = {
                "t": table(spec.table, dialect),
                "new": table(spec.table, dialect, "_by_date"),
                "d": ident(spec.date_column, dialect),
                "c": ident(spec.company_column, dialect),
            }
        if "{partitions}" in template:  # PostgreSQL: one partition per month, and a DEFAULT one
            names["default"] = table(spec.table, dialect, "_by_date_default")
            names["partitions"] = "\n".join(
                f"CREATE TABLE {table(spec.table, dialect, '_by_date_' + a[:7].replace('-', '_'))} PARTITION OF "
                f"{names['new']} FOR VALUES FROM ('{a}') TO ('{b}');"
                for a, b in zip(months, ends, strict=True)
            )
        boundaries = ", ".join(f"'{m}'" for m in months[1:]) or f"'{spec.last_date}'"
        out[name] = template.format(**names, boundaries=boundaries)
    out["dbt"] = dbt_model.model(spec.source)
    return out


def _month_starts(first: str, last: str) -> list[str]:
    import datetime as dt

    a, b = dt.date.fromisoformat(first).replace(day=1), dt.date.fromisoformat(last)
    out = []
    while a <= b:
        out.append(a.isoformat())
        a = (a.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def _next_month(day: str) -> str:
    import datetime as dt

    a = dt.date.fromisoformat(day)
    return ((a.replace(day=28) + dt.timedelta(days=4)).replace(day=1)).isoformat()
