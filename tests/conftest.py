"""Shared fixtures, and the system components some tests need.

``sample_dir`` is a copy, made once per session, of the committed sample (data/sample), made by ``evtools sample``
with its defaults; its injected faults are listed per company/date in ``ground_truth.parquet`` and the replayed loads
in ``ground_truth_loads.parquet``. Tests compare evtools' figures with those exactly. Tests never write into
data/sample itself (its run log, aggregate and reports land in the copy); the session fails if one did.

Tests marked ``spark``, ``browser`` or ``postgres`` need a system component. Where it is missing they are left out with one line
naming the Debian package to install; under CI (``CI=true``) a missing component is an error. ``--quick`` (``make
test``) leaves them out wherever they could run, and the ``install`` tests (a pip install into a new venv) too, with
one line per marker saying what ``make test-all`` adds; its property tests try 5 examples each instead of 30, and
its exhaustive tests (every date, every command killed) run on a part.

Under pytest-xdist (``-n 2 --dist loadgroup``) the tests sharing a costly session resource (the Spark JVM, the
PostgreSQL server, the installed venv, the rendered reports) carry an ``xdist_group`` of its name, so each resource
is made once per run, in one worker; so do a module's tests using one of its module-scoped fixtures (the group is
the module's path). Groups are handed out first, the largest first (pytest-xdist's loadscope order); the left-out
lines come from the workers and are printed once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evtools.core.config import CONFIG_ENV, load_config
from evtools.engines.sources import open_sources

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
# markers whose tests ``--quick`` leaves out: the components' and the pip install's
QUICK_LEAVES_OUT = {**{m: c.what for m, c in COMPONENTS.items()}, "install": "a pip install into a new venv"}
_LEFT_OUT: list[str] = []


# property tests: examples per test in make test (--quick) and in make test-all
EXAMPLES = {"quick": 5, "all": 30}


def pytest_configure(config):
    from hypothesis import settings

    for name, n in EXAMPLES.items():
        settings.register_profile(name, max_examples=n)
    settings.load_profile("quick" if config.getoption("quick") else "all")


def pytest_addoption(parser):
    parser.addoption(
        "--quick",
        action="store_true",
        help="leave out the tests needing Java, a database server, Chromium or a pip install (make test)",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    for item in items:  # one worker per costly resource (see the module docstring)
        for marker in ("spark", "postgres", "install"):
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.xdist_group(marker))
                break
        else:
            if "rendered_reports" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group("reports"))
            elif _uses_a_module_fixture(item):
                item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    keep = list(items)
    if config.getoption("quick"):
        for marker, what in QUICK_LEAVES_OUT.items():
            wanting = [item for item in keep if item.get_closest_marker(marker)]
            if wanting:
                _LEFT_OUT.append(f"left out {len(wanting)} {marker} tests (they need {what}): make test-all runs them")
                keep = [item for item in keep if item not in wanting]
                config.hook.pytest_deselected(items=wanting)
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


def _uses_a_module_fixture(item) -> bool:
    """``item`` uses a module-scoped fixture of its own module: the module's tests that do run in one worker, so
    that fixture is made once per run (each worker would make its own)."""
    module = item.nodeid.split("::")[0]
    info = getattr(item, "_fixtureinfo", None)
    return info is not None and any(
        d.scope == "module" and d.baseid == module for defs in info.name2fixturedefs.values() for d in defs
    )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """Under pytest-xdist each worker collects the whole suite: take each left-out line once."""
    for line in getattr(node, "workeroutput", {}).get("evtools_left_out", []):
        if line not in _LEFT_OUT:
            _LEFT_OUT.append(line)


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
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: its left-out lines go to the controller
        session.config.workeroutput["evtools_left_out"] = list(_LEFT_OUT)
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
def quick(request) -> bool:
    """True under --quick (make test): an exhaustive test runs on a part of what make test-all runs it on."""
    return bool(request.config.getoption("quick"))


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


NOTEBOOKS = ROOT / "notebooks"
# rendered in this order: the investigation is the folder's latest run (by generation time, then date), as notify reads
REPORTED = {"daily": dt.date(2026, 2, 20), "investigation": dt.date(2026, 3, 2)}


@dataclass(frozen=True)
class Rendered:
    """The reports of ``rendered_reports``: the folder, and each report's run record (its run.json)."""

    out: Path
    config: Path
    investigation: dict
    daily: dict

    def run_dir(self, kind: str) -> Path:
        return self.out / REPORTED[kind].isoformat() / kind


@pytest.fixture(scope="session")
def rendered_reports(tmp_path_factory, sample_dir) -> Rendered:
    """The daily report of 2026-02-20 and the investigation (all six notebooks, on 2026-03-02), rendered once per
    run by ``evtools.app.reports`` from the shipped notebooks into one reports folder, on a copy of the sample with
    its own (empty) run log and one DuckDB thread (the re-laid files' bytes come out the same every run). Tests
    read them and never write there."""
    from evtools.app import reports

    root = tmp_path_factory.mktemp("rendered")
    shutil.copytree(sample_dir, root / "sample", ignore=shutil.ignore_patterns(".evtools"))
    config = root / "sample" / "evtools.toml"
    config.write_text(config.read_text().replace("[settings]", "[settings]\nthreads = 1"))
    out = root / "reports"
    runs = {
        kind: reports.run_report(kind, config, out, NOTEBOOKS, date=day) for kind, day in REPORTED.items()
    }
    return Rendered(out, config, runs["investigation"], runs["daily"])


def made_once(tmp_path_factory, name: str, make) -> Path:
    """The folder ``name`` that ``make(folder)`` fills, made once per run: under pytest-xdist in the run's temp folder
    all workers share, by the first worker to ask (the others wait on its lock file, then read it). Tests only read
    it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder, done = base / name, base / f"{name}.made"
    with open(base / f"{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            make(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def large_dir(tmp_path_factory) -> Path:
    """A generated 2M-row set with time-ordered event ids (the sample's are random), shared by the engines' tests:
    made once per run (``made_once``: the Spark and the PostgreSQL tests run in different workers)."""
    from evtools.analyses.sample import SampleSpec, generate

    spec = SampleSpec(rows=2_000_000, companies=200, days=120, seed=3, ordered_ids=True)
    return made_once(tmp_path_factory, "large", lambda folder: generate(spec, folder, progress=False))


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


def dbt(project: Path, *args: str, target: Path | None = None) -> tuple[object, str]:
    """dbt ``args`` on ``project`` (its profiles.yml beside it) in this process, as the dbt command line runs them
    (dbt's programmatic entry point: one interpreter and one import of dbt for every run of the session); the
    invocation's result and the lines dbt logged, in order. ``target``: its --target-path and --log-path parent."""
    import logging
    import warnings

    lines: list[str] = []
    where = ["--target-path", str(target / "target"), "--log-path", str(target / "logs")] if target else []
    argv = [*args, "--project-dir", str(project), "--profiles-dir", str(project), *where]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with warnings.catch_warnings():  # dbt's imports add warning filters and a handler on the root logger: not kept
        from dbt.cli.main import dbtRunner

        try:
            result = dbtRunner(callbacks=[lambda event: lines.append(event.info.msg)]).invoke(
                ["--no-send-anonymous-usage-stats", *argv]
            )
        finally:
            root.handlers[:], root.level = handlers, level
    assert result.exception is None, result.exception
    return result, "\n".join(lines)


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
