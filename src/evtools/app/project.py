"""A user's project: the folder ``evtools init`` writes, holding evtools.toml and expectations/.

``init(folder, locations)`` writes ``folder/evtools.toml``: the sources (the locations given, relative to the folder,
or placeholders to fill in), per source the columns found there and the mapping of the canonical columns (see
``evtools.core.schema``) to them, and the settings with their defaults, commented out. A canonical column is mapped when a
column of the source has its name up to case and separators (``CompanyID``, ``company-id``); a column with a usual
other name (``loaded_at`` for ingested_at) is proposed in a comment, never mapped silently. It also copies the default
Great Expectations suites into ``folder/expectations/`` (existing files are kept: they may hold the user's edits).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, fields
from pathlib import Path

from evtools.analyses.expectations import default_suites
from evtools.core.config import DEFAULT_CONFIG, Settings, locate_source
from evtools.core.errors import ConfigError
from evtools.core.schema import REQUIRED_SOURCES, SCHEMA

# usual other names of the canonical columns: proposed in a comment, never mapped without the user
SYNONYMS = {
    "event_id": ("id", "uuid", "event_uuid", "record_id", "record_uid", "message_id"),
    "company_id": (
        "company",
        "account_id",
        "customer_id",
        "tenant_id",
        "org_id",
        "organization_id",
        "client_id",
    ),
    "date": ("event_date", "day", "dt", "ds", "activity_date", "report_date"),
    "events": ("event_count", "count", "n_events", "num_events", "value", "total"),
    "ingested_at": ("loaded_at", "load_time", "_loaded_at", "inserted_at", "ingestion_time", "_ingested_at"),
    "event_ts": ("event_time", "timestamp", "ts", "occurred_at", "event_timestamp"),
    "load_id": ("batch_id", "load", "run_id", "_load_id"),
    "fetched_at": ("retrieved_at", "pulled_at", "extracted_at"),
    "computed_at": ("updated_at", "refreshed_at", "calculated_at"),
}
PLACEHOLDERS = {
    "fact_events": "fact_events/*.parquet",
    "api_daily": "api_daily.csv",
    "dashboard": "duckdb:bi.duckdb:marts.company_daily",
}


@dataclass(frozen=True)
class Mapping:
    """One source's columns as found, and what each canonical column maps to."""

    source: str
    location: str  # as written into the config (relative to the project folder)
    found: dict  # the source's column -> its type
    mapped: dict  # canonical -> the source's column (same name up to case and separators)
    proposed: dict  # canonical -> a column with a usual other name

    @property
    def missing(self) -> list[str]:
        """Required canonical columns neither mapped nor proposed."""
        return [
            c.name
            for c in SCHEMA[self.source]
            if c.required and c.name not in self.mapped and c.name not in self.proposed
        ]


@dataclass(frozen=True)
class Project:
    config: Path
    suites: Path
    mappings: list[Mapping]
    suites_written: list[str]


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def match_columns(source: str, found: dict) -> tuple[dict, dict]:
    """(mapped, proposed) for the columns ``found`` in ``source`` (see the module docstring)."""
    by_norm = {_norm(name): name for name in found}
    mapped, proposed = {}, {}
    for col in SCHEMA[source]:
        if _norm(col.name) in by_norm:
            mapped[col.name] = by_norm[_norm(col.name)]
            continue
        guess = next((by_norm[_norm(s)] for s in SYNONYMS.get(col.name, ()) if _norm(s) in by_norm), None)
        if guess and guess not in mapped.values():
            proposed[col.name] = guess
    return mapped, proposed


def _relative(location: str, folder: Path) -> str:
    """A location given on the command line (relative to the working folder) as seen from the project folder."""
    if "://" in location or location.startswith("table:"):
        return location
    prefix, path, table = "", location, ""
    if location.startswith("duckdb:"):
        path, _, table = location[len("duckdb:") :].rpartition(":")
        prefix, table = "duckdb:", f":{table}"
    absolute = Path(path).expanduser().resolve()
    try:
        path = os.path.relpath(absolute, folder.resolve())
    except ValueError:  # another drive
        path = str(absolute)
    return f"{prefix}{path}{table}"


def discover(folder: Path, source: str, location: str) -> Mapping:
    """Open ``location`` as ``source`` where it lies and match its columns (DataError when it cannot be read)."""
    from evtools.engines.sources import describe

    found = describe(locate_source(Path.cwd() / DEFAULT_CONFIG, source, location, {}))
    written = _relative(location, folder)
    mapped, proposed = match_columns(source, found)
    return Mapping(source, written, found, mapped, proposed)


def config_text(mappings: dict[str, Mapping]) -> str:
    """The evtools.toml of a project whose sources are ``mappings`` (the others get placeholders)."""
    lines = [
        "# evtools project, written by `evtools init`. Paths are relative to this file.",
        "# Check it with `evtools sources --config <this file>`.",
        "",
        "[sources]  # a file, a glob, a hive-partitioned folder (parquet, csv or json lines), or duckdb:FILE:TABLE",
    ]
    for name in SCHEMA:
        if name in mappings:
            lines.append(f"{name} = {json.dumps(mappings[name].location)}")
        elif name in REQUIRED_SOURCES:
            lines.append(f"{name} = {json.dumps(PLACEHOLDERS[name])}  # edit: where {name} lies")
        else:
            lines.append(f"# {name} = {json.dumps(PLACEHOLDERS[name])}")
    for name in SCHEMA:
        lines += ["", f"[columns.{name}]  # canonical name = your column name"]
        m = mappings.get(name)
        if m is None:
            lines += [f"# {c.help}" for c in SCHEMA[name]]
            continue
        found = ", ".join(f"{k} ({v})" for k, v in m.found.items())
        lines.append(f"# found: {found}")
        for col in SCHEMA[name]:
            if col.name in m.mapped:
                lines.append(f"{col.name} = {json.dumps(m.mapped[col.name])}")
            elif col.name in m.proposed:
                need = "required" if col.required else "optional"
                lines.append(
                    f"# {col.name} = {json.dumps(m.proposed[col.name])}  # {need}: a guess from its name, check it"
                )
            elif col.required:
                lines.append(f'# {col.name} = "?"  # required, not found: name the column that holds it')
            else:
                lines.append(f"# {col.help}: not found")
    lines += ["", "[settings]  # the defaults; uncomment to change"]
    for f in fields(Settings):
        value = f.default
        if value is None:
            text = "<number>  # unset by default"
        elif hasattr(value, "isoformat"):
            text = value.isoformat()
        else:
            text = json.dumps(list(value) if isinstance(value, tuple) else value)
        lines.append(f"# {f.name} = {text}")
    return "\n".join(lines) + "\n"


def init(folder: Path, locations: dict[str, str], force: bool = False) -> Project:
    """Write ``folder``/evtools.toml and ``folder``/expectations/ (see the module docstring)."""
    folder = Path(folder)
    config = folder / DEFAULT_CONFIG
    if config.exists() and not force:
        raise ConfigError(f"{config}: already exists; pass --force to replace it")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder")
    mappings = {name: discover(folder, name, where) for name, where in locations.items() if where}
    folder.mkdir(parents=True, exist_ok=True)
    tmp = config.with_name(f".{config.name}.tmp-{os.getpid()}")
    tmp.write_text(config_text(mappings), encoding="utf-8")
    os.replace(tmp, config)
    suites = folder / "expectations"
    suites.mkdir(exist_ok=True)
    written = []
    for path in sorted(default_suites().iterdir()):
        target = suites / path.name
        if path.suffix in (".json", ".md") and not target.exists():
            shutil.copyfile(path, target)
            written.append(path.name)
    return Project(config, suites, list(mappings.values()), written)
