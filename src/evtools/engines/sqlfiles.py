"""The package's SQL files: one ``.sql`` file per purpose under ``evtools/sql``, in DuckDB's dialect; and the one
helper that quotes an identifier from the config."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return resources.files("evtools").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB: wrap in double quotes, double any inner double quote."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"not a usable identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'
