"""Reading and checking ``evtools.toml``.

The file has four tables: ``[sources]`` (where each dataset lies), ``[columns.<source>]`` (canonical name = the
user's column name; an omitted key means the canonical name), ``[settings]`` and ``[engine]`` (which engine runs the
SQL: DuckDB in this process, the default, Apache Spark, or a SQL database; see ``Engine``). Relative paths are relative to the
folder holding the config file. Unknown keys and values of the wrong type are errors naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from evtools.core.errors import ConfigError
from evtools.core.schema import REQUIRED_SOURCES, RUN_COLUMNS, RUN_FORMATS, SCHEMA, UNITS

DEFAULT_CONFIG = "evtools.toml"
CONFIG_ENV = "EVTOOLS_CONFIG"
# the committed sample, when evtools runs from a clone of its repository (src/evtools/core/config.py -> data/sample)
_CLONE_SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample" / DEFAULT_CONFIG


@dataclass(frozen=True)
class Settings:
    """Tunable thresholds; every field may be set in ``[settings]``."""

    lookback_days: int = 2  # the incremental window the current job re-reads, in days
    coverage_target: float = 0.999  # share of events a recommended lookback must cover
    abs_tolerance: float = 0.0  # |delta| at or below this is a match
    rel_tolerance: float = 0.0  # |delta| / max(|api|, 1) at or below this is a match
    timezone: str = "UTC"  # the zone the business reads days in
    timezones: tuple[str, ...] = ()  # further candidate zones for day-boundary analysis
    dashboard_computed_offset_hours: float | None = (
        None  # T = date + this, when the dashboard has no computed_at
    )
    aggregate_db: str = ".evtools/aggregate.duckdb"  # the materialised aggregate's database file
    run_log: str = ".evtools/runs.jsonl"  # one JSON line per evtools command
    max_duplicate_rows: int = 0  # expectation: duplicate rows allowed in a validated batch
    max_late_share: float = 0.001  # expectation: share of rows arriving after the recommended lookback
    freshness_hours: float = 36.0  # expectation: the newest ingested_at is at most this old
    earliest_date: dt.date = dt.date(2000, 1, 1)  # expectation: dates before this are implausible
    memory_limit: str = "500MB"  # DuckDB memory_limit for evtools queries (peak RSS is about 2x this)
    threads: int = 0  # DuckDB threads; 0 keeps DuckDB's default


_SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "lookback_days": (int,),
    "coverage_target": (float, int),
    "abs_tolerance": (float, int),
    "rel_tolerance": (float, int),
    "timezone": (str,),
    "timezones": (list,),
    "dashboard_computed_offset_hours": (float, int),
    "aggregate_db": (str,),
    "run_log": (str,),
    "max_duplicate_rows": (int,),
    "max_late_share": (float, int),
    "freshness_hours": (float, int),
    "earliest_date": (dt.date,),
    "memory_limit": (str,),
    "threads": (int,),
}


ENGINES = ("duckdb", "spark", "sql")
TABLE_ENGINES = ("spark", "sql")  # the engines that read sources given as table:NAME


@dataclass(frozen=True)
class Engine:
    """``[engine]``: ``kind`` (duckdb | spark | sql).

    Spark: the ``master`` URL (local[N], spark://HOST:PORT, yarn, or "" to take what spark-submit or the platform
    provides), extra ``conf`` (``[engine.conf]``, Spark properties) and ``aggregate_path``, the folder (any Hadoop
    file system path) of the refreshed aggregate.

    sql: ``url``, the database as a SQLAlchemy URL (``postgresql://user@host:5432/db``), and ``password_env``, the
    environment variable holding the password (default: none; libpq also reads PGPASSWORD and ~/.pgpass). A
    password written in the URL works too but is never shown; keep it out of the file. ``schema``: the database's
    schema where refresh keeps the aggregate and its state (default ``evtools``; created when missing)."""

    kind: str = "duckdb"
    master: str = "local[2]"
    conf: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    aggregate_path: str = ".evtools/aggregate"
    url: str = ""
    password_env: str = ""
    schema: str = "evtools"


@dataclass(frozen=True)
class RunHistory:
    """``[runs]``: the job-run history ``evtools runs`` and notebook 06 read when not told otherwise: ``log`` (a file,
    glob or folder; default: evtools' own run log), ``format`` (auto, generic, dbt, airflow, evtools),
    ``duration_unit`` (s, ms, us, min, h; default: the unit the duration column's name ends with, else s) and
    ``columns`` (``[runs.columns]``: canonical name = your column, as for the sources; job may be a list of columns,
    joined with '.'). See ``evtools.analyses.runs_read``."""

    log: str | None = None
    format: str = "auto"
    duration_unit: str | None = None
    columns: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Source:
    """One dataset: ``location`` as written in the config, resolved to ``path`` (and ``table`` for duckdb:)."""

    name: str
    location: str
    path: Path
    table: str | None = None
    columns: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    catalog: str | None = None  # table:NAME, a table of the Spark catalog or of the SQL database

    @property
    def is_duckdb(self) -> bool:
        return self.table is not None

    def column(self, canonical: str) -> str:
        """The user's name for a canonical column."""
        return self.columns.get(canonical, canonical)


@dataclass(frozen=True)
class Config:
    path: Path
    root: Path
    sources: MappingProxyType
    settings: Settings
    engine: Engine = field(default_factory=Engine)
    runs: RunHistory = field(default_factory=RunHistory)

    def source(self, name: str) -> Source:
        if name not in self.sources:
            raise ConfigError(f"{self.path}: [sources] has no '{name}'; this command needs it")
        return self.sources[name]

    def resolve(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def aggregate_db(self) -> Path:
        return self.resolve(self.settings.aggregate_db)

    @property
    def run_log(self) -> Path:
        return self.resolve(self.settings.run_log)

    def with_engine(self, kind: str | None) -> Config:
        """This config with ``[engine] kind`` replaced (``--engine``); None keeps it."""
        if kind is None or kind == self.engine.kind:
            return self
        _check_engine_kind(self.path, kind)
        config = replace(self, engine=replace(self.engine, kind=kind))
        _check_catalog_sources(config)
        return config

    @property
    def aggregate_path(self) -> str:
        """Where the Spark engine keeps the aggregate: a URL as given, else a path resolved like any other."""
        where = self.engine.aggregate_path
        return where if "://" in where else str(self.resolve(where))


def find_config(cwd: Path | None = None) -> Path:
    """The config used when none is given, the same from any working folder (CLI, papermill, nbconvert, JupyterLab):
    ``$EVTOOLS_CONFIG``; else evtools.toml in the working folder or the nearest folder above it; else, when evtools
    runs from a clone of its repository, the committed sample (data/sample/evtools.toml)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    here = Path(cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_CONFIG).is_file():
            return folder / DEFAULT_CONFIG
    if _CLONE_SAMPLE.is_file():
        return _CLONE_SAMPLE
    raise ConfigError(
        f"{here / DEFAULT_CONFIG}: no config file here or above; pass --config (notebooks: -p config=PATH), "
        f"set {CONFIG_ENV}, or write one with evtools init"
    )


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read, check and resolve a config file (None or "": ``find_config()``); ``overrides`` replace settings."""
    path = Path(path) if path else find_config()
    if path.is_dir():
        path = path / DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; expected an evtools.toml (see --config)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save the file as UTF-8") from e
    return parse_config(raw, path, overrides)


def parse_config(raw: dict[str, Any], path: Path, overrides: dict[str, Any] | None = None) -> Config:
    path = Path(path).resolve()
    _reject_unknown(path, "", raw, {"sources", "columns", "settings", "engine", "runs"})
    sources_raw = _table(path, raw, "sources")
    columns_raw = _table(path, raw, "columns")
    _reject_unknown(path, "sources.", sources_raw, set(SCHEMA))
    _reject_unknown(path, "columns.", columns_raw, set(SCHEMA))
    for name in REQUIRED_SOURCES:
        if name not in sources_raw:
            raise ConfigError(f"{path}: [sources] lacks '{name}'; expected a path, glob or duckdb:FILE:TABLE")
    sources = {}
    for name, location in sources_raw.items():
        if not isinstance(location, str) or not location:
            raise ConfigError(f"{path}: sources.{name}: expected a path string, found {_kind(location)}")
        mapping = _table(path, columns_raw, name, prefix="columns.")
        _reject_unknown(path, f"columns.{name}.", mapping, {c.name for c in SCHEMA[name]})
        for canonical, user in mapping.items():
            if not isinstance(user, str) or not user:
                raise ConfigError(
                    f"{path}: columns.{name}.{canonical}: expected a column name string, found {_kind(user)}"
                )
        sources[name] = locate_source(path, name, location, mapping)
    settings_raw = dict(_table(path, raw, "settings"))
    settings_raw.update(overrides or {})
    engine = _engine(path, _table(path, raw, "engine"))
    runs = _runs(path, _table(path, raw, "runs"))
    config = Config(path, path.parent, MappingProxyType(sources), _settings(path, settings_raw), engine, runs)
    _check_catalog_sources(config)
    return config


def _check_catalog_sources(config: Config) -> None:
    for source in config.sources.values():
        if source.catalog and config.engine.kind not in TABLE_ENGINES:
            raise ConfigError(
                f"{config.path}: sources.{source.name}: '{source.location}' is a table of a Spark catalog or a "
                'database; set [engine] kind = "spark" or "sql" (or --engine)'
            )
        if config.engine.kind == "sql" and not source.catalog:
            raise ConfigError(
                f"{config.path}: sources.{source.name}: the sql engine reads tables of its database; expected "
                f"table:SCHEMA.NAME, found '{source.location}'"
            )
    if config.engine.kind == "sql" and not config.engine.url:
        raise ConfigError(
            f"{config.path}: engine.url: the sql engine needs the database's URL, e.g. "
            "postgresql://user@host:5432/db"
        )


def _engine(path: Path, raw: dict[str, Any]) -> Engine:
    _reject_unknown(path, "engine.", raw, {f.name for f in fields(Engine)})
    for key in ("kind", "master", "aggregate_path", "url", "password_env", "schema"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{path}: engine.{key}: expected a string, found {_kind(raw[key])}")
    conf = _table(path, raw, "conf", prefix="engine.")
    for key, value in conf.items():
        if isinstance(value, dict | list):
            raise ConfigError(f"{path}: engine.conf.{key}: expected a string or number, found {_kind(value)}")
    kind = raw.get("kind", "duckdb")
    _check_engine_kind(path, kind)
    values = {k: raw[k] for k in ("master", "aggregate_path", "url", "password_env", "schema") if k in raw}
    conf = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in conf.items()}
    return Engine(kind=kind, conf=MappingProxyType(conf), **values)


def _runs(path: Path, raw: dict[str, Any]) -> RunHistory:
    if not raw:
        return RunHistory()
    _reject_unknown(path, "runs.", raw, {f.name for f in fields(RunHistory)})
    for key, allowed in (("log", None), ("format", RUN_FORMATS), ("duration_unit", tuple(UNITS))):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: runs.{key}: expected a string, found {_kind(value)}")
        if allowed and value not in allowed:
            raise ConfigError(f"{path}: runs.{key}: expected one of {', '.join(allowed)}, found '{value}'")
    columns = _table(path, raw, "columns", prefix="runs.")
    _reject_unknown(path, "runs.columns.", columns, set(RUN_COLUMNS))
    for key, value in columns.items():
        names = value if isinstance(value, list) and key == "job" else [value]
        if not names or not all(isinstance(n, str) and n for n in names):
            want = "a column name or a list of names" if key == "job" else "a column name string"
            raise ConfigError(f"{path}: runs.columns.{key}: expected {want}, found {_kind(value)}")
    values = {k: raw[k] for k in ("log", "format", "duration_unit") if k in raw}
    return RunHistory(columns=MappingProxyType(dict(columns)), **values)


def _check_engine_kind(path: Path, kind: str) -> None:
    if kind not in ENGINES:
        raise ConfigError(f"{path}: engine.kind: expected one of {', '.join(ENGINES)}, found '{kind}'")


def locate_source(path: Path, name: str, location: str, mapping: dict[str, str]) -> Source:
    """The source ``name`` at ``location`` as written in the config file ``path`` (relative to its folder)."""
    table = None
    where = location
    if location.startswith("table:"):
        name_in_catalog = location[len("table:") :]
        if not name_in_catalog:
            raise ConfigError(f"{path}: sources.{name}: expected table:NAME, found '{location}'")
        return Source(name, location, path.parent, None, MappingProxyType(dict(mapping)), name_in_catalog)
    if location.startswith("duckdb:"):
        where, sep, table = location[len("duckdb:") :].rpartition(":")
        if not sep or not where or not table:
            raise ConfigError(f"{path}: sources.{name}: expected duckdb:FILE:TABLE, found '{location}'")
    p = Path(where).expanduser()
    resolved = p if p.is_absolute() else path.parent / p
    return Source(name, location, resolved, table, MappingProxyType(dict(mapping)))


def _settings(path: Path, raw: dict[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)}
    _reject_unknown(path, "settings.", raw, known)
    values = {}
    for key, value in raw.items():
        types = _SETTING_TYPES[key]
        if value is None and key == "dashboard_computed_offset_hours":
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            want = " or ".join(t.__name__ for t in types)
            raise ConfigError(f"{path}: settings.{key}: expected {want}, found {_kind(value)} {value!r}")
        if key == "timezones":
            if not all(isinstance(z, str) for z in value):
                raise ConfigError(
                    f"{path}: settings.timezones: expected a list of zone names, found {value!r}"
                )
            value = tuple(value)
        elif float in types:
            value = float(value)
        values[key] = value
    settings = Settings(**values)
    if not 0 < settings.coverage_target <= 1:
        raise ConfigError(
            f"{path}: settings.coverage_target: expected a share in (0, 1], found {settings.coverage_target}"
        )
    if settings.lookback_days < 0:
        raise ConfigError(f"{path}: settings.lookback_days: expected >= 0, found {settings.lookback_days}")
    if settings.threads < 0:
        raise ConfigError(
            f"{path}: settings.threads: expected >= 0 (0: DuckDB's default), found {settings.threads}"
        )
    if not _MEMORY.fullmatch(settings.memory_limit.strip()):
        raise ConfigError(
            f'{path}: settings.memory_limit: expected a size like "500MB" or "2GB", found {settings.memory_limit!r}'
        )
    for key, zones in (("timezone", (settings.timezone,)), ("timezones", settings.timezones)):
        for zone in zones:
            if not _known_zone(zone):
                raise ConfigError(
                    f"{path}: settings.{key}: unknown time zone {zone!r}; expected an IANA name"
                )
    for key in ("abs_tolerance", "rel_tolerance", "max_duplicate_rows", "max_late_share", "freshness_hours"):
        if getattr(settings, key) < 0:
            raise ConfigError(f"{path}: settings.{key}: expected >= 0, found {getattr(settings, key)}")
    return settings


_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)", re.IGNORECASE)


def _known_zone(name: str) -> bool:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _table(path: Path, raw: dict, key: str, prefix: str = "") -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{prefix}{key}]: expected a table, found {_kind(value)}")
    return value


def _reject_unknown(path: Path, prefix: str, raw: dict, known: set[str]) -> None:
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key '{prefix}{key}'; expected one of: {', '.join(sorted(known))}"
            )


def _kind(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
