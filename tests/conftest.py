"""Shared fixtures, and the system components some tests need.

``sample_dir`` is a copy, made once per session, of the committed sample (data/sample), made by ``evtools sample``
with its defaults; its injected faults are listed per company/date in ``ground_truth.parquet`` and the replayed loads
in ``ground_truth_loads.parquet``. Tests compare evtools' figures with those exactly. Tests never write into
data/sample itself (its run log, aggregate and reports land in the copy); the session fails if one did.

Tests marked ``spark``, ``browser`` or ``postgres`` need a system component. Where it is missing they are left out with one line
naming the Debian package to install; under CI (``CI=true``) a missing component is an error.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evtools.config import CONFIG_ENV, load_config
from evtools.sources import open_sources

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@dataclass(frozen=True)
class Component:
    what: str
    debian: str  # the Debian packages that provide it

    def missing(self) -> str | None:
        """Why the component is unusable here, or None when it is present."""
        raise NotImplementedError


class Java(Component):
    def missing(self) -> str | None:
        if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
            return "no java on PATH and no JAVA_HOME"
        if importlib.util.find_spec("pyspark") is None:
            return "pyspark is not installed (pip install '.[spark]')"
        return None


class Chromium(Component):
    def missing(self) -> str | None:
        absent = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
        return f"{' and '.join(absent)} not found" if absent else None


class Postgres(Component):
    def missing(self) -> str | None:
        from tests.pgserver import binaries

        if binaries() is None:
            return "no PostgreSQL server binaries (initdb, pg_ctl) found"
        for module, extra in (("sqlalchemy", "SQLAlchemy"), ("psycopg", "psycopg")):
            if importlib.util.find_spec(module) is None:
                return f"{extra} is not installed (pip install '.[sql]')"
        return None


# marker -> the component its tests need
COMPONENTS = {
    "spark": Java("Java 17+ for the Spark engine", "openjdk-17-jre-headless"),
    "browser": Chromium("headless Chromium and its WebDriver", "chromium chromium-driver"),
    "postgres": Postgres("a PostgreSQL server for the sql engine", "postgresql"),
}
_LEFT_OUT: list[str] = []


def pytest_collection_modifyitems(config, items):
    keep = list(items)
    for marker, component in COMPONENTS.items():
        wanting = [item for item in keep if item.get_closest_marker(marker)]
        why = component.missing() if wanting else None
        if not why:
            continue
        line = (
            f"{component.what}: {why}; install the Debian package(s) {component.debian} "
            f"(apt-get install {component.debian})"
        )
        if os.environ.get("CI", "").lower() == "true":
            raise pytest.UsageError(f"CI needs {line}")
        files = sorted({item.location[0] for item in wanting})
        _LEFT_OUT.append(f"left out {len(wanting)} {marker} tests ({', '.join(files)}): {line}")
        keep = [item for item in keep if item not in wanting]
        config.hook.pytest_deselected(items=wanting)
    items[:] = keep


def pytest_terminal_summary(terminalreporter):
    for line in _LEFT_OUT:
        terminalreporter.write_line(f"evtools: {line}", yellow=True)


def _listing(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def pytest_sessionstart(session):
    session.config._sample_listing = _listing(SAMPLE)


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_sample_listing", None)
    if before is None:
        return
    after = _listing(SAMPLE)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"evtools: tests wrote into {SAMPLE}: {', '.join(changed[:10])}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """A private copy of the committed sample: commands run on it write their run log and aggregate there."""
    folder = tmp_path_factory.mktemp("sample") / "sample"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns(".evtools"))
    return folder


@pytest.fixture(scope="session", autouse=True)
def default_config_is_the_copy(sample_dir):
    """A command run without --config finds the sample copy, not data/sample (whose run log it would append to)."""
    before = os.environ.get(CONFIG_ENV)
    os.environ[CONFIG_ENV] = str(sample_dir / "evtools.toml")
    yield
    if before is None:
        os.environ.pop(CONFIG_ENV, None)
    else:
        os.environ[CONFIG_ENV] = before


@pytest.fixture(scope="session")
def large_dir(tmp_path_factory) -> Path:
    """A generated 2M-row set with time-ordered event ids (the sample's are random), shared by the engines' tests."""
    from evtools.sample import SampleSpec, generate

    folder = tmp_path_factory.mktemp("large")
    generate(SampleSpec(rows=2_000_000, companies=200, days=120, seed=3, ordered_ids=True), folder, progress=False)
    return folder


@pytest.fixture(scope="session")
def large_config(large_dir):
    return load_config(large_dir / "evtools.toml")


@pytest.fixture(scope="session")
def sample_config(sample_dir):
    return load_config(sample_dir / "evtools.toml")


@pytest.fixture()
def sample_con(sample_config) -> duckdb.DuckDBPyConnection:
    con = open_sources(sample_config)
    yield con
    con.close()


@pytest.fixture(scope="session")
def truth() -> pd.DataFrame:
    return pd.read_parquet(SAMPLE / "ground_truth.parquet")


@pytest.fixture(scope="session")
def fact_frame() -> pd.DataFrame:
    """The whole (small) committed fact_events, for independent pandas recounts in tests only."""
    con = duckdb.connect()
    frame = con.execute(
        "SELECT * FROM read_parquet($p)", {"p": str(SAMPLE / "fact_events" / "*.parquet")}
    ).df()
    con.close()
    return frame


def write_config(folder: Path, text: str) -> Path:
    path = folder / "evtools.toml"
    path.write_text(text)
    return path


PG_PASSWORD_ENV = "EVTOOLS_TEST_PGPASSWORD"


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server started for the session (tests.pgserver), its role's password in PG_PASSWORD_ENV."""
    from tests.pgserver import PASSWORD, Server

    server = Server.start()
    os.environ[PG_PASSWORD_ENV] = PASSWORD
    yield server
    os.environ.pop(PG_PASSWORD_ENV, None)
    server.stop()
