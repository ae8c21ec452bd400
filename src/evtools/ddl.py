"""The layout recommendation as DDL for the user's warehouse, from one spec.

Partition (or cluster first) by the date column, cluster (sort) by the company column: the daily job and its
incremental window then read only the partitions of the dates they need, and a single-company query reads only the
row groups holding that company.
"""

from __future__ import annotations

from dataclasses import dataclass

from evtools import dbt_model
from evtools.config import Config, Source

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

    @classmethod
    def from_config(
        cls, config: Config, table: str = "fact_events", first: str = "2025-01-01", last: str = "2025-12-31"
    ) -> LayoutSpec:
        source = config.source("fact_events")
        return cls(table, source.column("date"), source.column("company_id"), first, last, source)


def ddl(spec: LayoutSpec) -> dict[str, str]:
    """Dialect -> statement(s); plus 'synapse' (dedicated pool), 'spark_dataframe' (PySpark) and 'dbt' (the
    aggregate as a complete incremental model, ``evtools.dbt_model``).

    PostgreSQL: a table partitioned by month ranges of the date column over the data's span, a DEFAULT partition
    for the dates outside it (later months, stray dates), the rows copied in date and company order, an index on
    (company, date), and the statistics gathered."""
    t, d, c = spec.table, spec.date_column, spec.company_column
    new = f"{t}_by_date"
    months = _month_starts(spec.first_date, spec.last_date)
    boundaries = ", ".join(f"'{m}'" for m in months[1:]) or f"'{spec.last_date}'"
    pg_parts = "\n".join(
        f"CREATE TABLE {new}_{a[:7].replace('-', '_')} PARTITION OF {new} FOR VALUES FROM ('{a}') TO ('{b}');"
        for a, b in zip(months, months[1:] + [_next_month(months[-1])], strict=True)
    )
    return {
        "snowflake": f"ALTER TABLE {t} CLUSTER BY ({d}, {c});",
        "bigquery": f"CREATE TABLE {new}\nPARTITION BY {d}\nCLUSTER BY {c}\nAS SELECT * FROM {t};",
        "databricks": f"CREATE TABLE {new}\nUSING DELTA\nPARTITIONED BY ({d})\nAS SELECT * FROM {t};\n"
        f"OPTIMIZE {new} ZORDER BY ({c});",
        "databricks_liquid": f"CREATE TABLE {new}\nCLUSTER BY ({d}, {c})\nAS SELECT * FROM {t};",
        "spark": f"CREATE TABLE {new}\nUSING PARQUET\nPARTITIONED BY ({d})\n"
        f"AS SELECT * FROM {t} DISTRIBUTE BY {d} SORT BY {c};",
        "synapse": f"CREATE TABLE {new}\nWITH (\n    DISTRIBUTION = HASH({c}),\n    CLUSTERED COLUMNSTORE INDEX,\n"
        f"    PARTITION ({d} RANGE RIGHT FOR VALUES ({boundaries}))\n)\nAS SELECT * FROM {t};",
        "postgres": f"CREATE TABLE {new} (LIKE {t} INCLUDING DEFAULTS) PARTITION BY RANGE ({d});\n{pg_parts}\n"
        f"CREATE TABLE {new}_default PARTITION OF {new} DEFAULT;\n"
        f"INSERT INTO {new} SELECT * FROM {t} ORDER BY {d}, {c};\n"
        f"CREATE INDEX ON {new} ({c}, {d});\nANALYZE {new};",
        "spark_dataframe": f'(spark.table("{t}")\n    .repartition("{d}")\n    .sortWithinPartitions("{c}")\n'
        f'    .write.partitionBy("{d}")\n    .mode("overwrite")\n    .saveAsTable("{new}"))',
        "dbt": dbt_model.model(spec.source),
    }


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
