"""The canonical schema every evtools query speaks.

Each source is exposed as a DuckDB view named after it (``fact_events``, ``api_daily``, ``dashboard``) whose
columns carry the canonical names below, whatever the user's tables call them.

Column kinds:
- ``id``: any scalar type, kept as the user's type (integer or string company ids stay what they are).
- ``date``: a DATE, or a timestamp cast to its UTC date.
- ``count``: an integer, exposed as BIGINT.
- ``ts``: a timestamp in UTC, exposed as TIMESTAMP (a zoned one is converted to UTC).
- ``version``: the order of an event's versions (the source's updated_at or a sequence number, see
  ``evtools.core.rules``): a number or a string as it is, a date or a timestamp as a UTC TIMESTAMP.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id | date | count | ts
    required: bool
    key: bool = False  # nulls are rejected when the source is opened

    @property
    def help(self) -> str:
        return f"{self.name} ({self.kind}{', required' if self.required else ', optional'})"


SCHEMA: dict[str, tuple[Column, ...]] = {
    "fact_events": (
        Column("event_id", "id", True, key=True),
        Column("company_id", "id", True, key=True),
        Column("date", "date", True, key=True),
        Column("events", "count", True, key=True),
        Column("ingested_at", "ts", True, key=True),
        Column("event_ts", "ts", False),
        Column("load_id", "id", False),
        Column("version", "version", False),
    ),
    "api_daily": (
        Column("company_id", "id", True, key=True),
        Column("date", "date", True, key=True),
        Column("events", "count", True, key=True),
        Column("fetched_at", "ts", False),
    ),
    "dashboard": (
        Column("company_id", "id", True, key=True),
        Column("date", "date", True, key=True),
        Column("events", "count", True, key=True),
        Column("computed_at", "ts", False),
    ),
}

REQUIRED_SOURCES = ("fact_events",)

# the job-run history (``evtools runs``): the formats of logs read, the canonical columns of table ``runs``, and the
# units a duration may be written in (seconds each)
RUN_FORMATS = ("auto", "generic", "dbt", "airflow", "evtools")
RUN_COLUMNS = ("job", "run_id", "started_at", "finished_at", "seconds", "rows", "bytes", "calls", "status")
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0, "h": 3600.0}


def columns(source: str) -> tuple[Column, ...]:
    return SCHEMA[source]


def column_names(source: str) -> list[str]:
    return [c.name for c in SCHEMA[source]]
