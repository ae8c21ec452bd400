"""Fault injection: report, layout, quality and refresh killed (SIGKILL) or interrupted (SIGINT, SIGTERM) at random
moments (seeded) leave the previous output exactly as it was, and the next run succeeds.

The moments are measured from the process's readiness: the moment it catches SIGTERM (``SigCgt`` in
/proc/PID/status), which only evtools' handlers make it do. A signal sent before that meets the interpreter's own
start-up, which ends the process by the signal (a SIGINT during the import of the site module: by Python's fatal
error, exit 1), and writes nothing either: such a signal (one per command and signal, sent at once) may end the
process so, never change the output.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evtools.analyses import refresh
from evtools.core.config import load_config
from tests.conftest import SAMPLE
from tests.test_hardening import digest

pytestmark = pytest.mark.slow
SIGNALS = (signal.SIGKILL, signal.SIGINT, signal.SIGTERM)


def _argv(command: str, config: Path, out: Path) -> list[str]:
    return {
        "quality": ["quality", "--config", str(config), "--out", str(out)],
        "layout": ["layout", "--config", str(config), "--out", str(out), "--repeats", "1"],
        "report": [
            "report",
            "investigation",
            "--config",
            str(config),
            "--out",
            str(out),
            "--date",
            "2026-03-01",
            "--only",
            "03_duplicates_late_appends",
        ],
        "refresh": ["refresh", "--config", str(config)],
    }[command]


def _start(argv: list[str], tmp: Path) -> subprocess.Popen:
    """evtools ``argv`` as a process whose temp folder (DuckDB's spill folders) is ``tmp``."""
    env = {**os.environ, "EVTOOLS_NO_PROGRESS": "1", "TMPDIR": str(tmp)}
    cmd = [sys.executable, "-m", "evtools", *argv]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _ready(proc: subprocess.Popen) -> bool:
    """evtools' signal handlers are installed: the process catches SIGTERM (the interpreter alone does not)."""
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def _wait_ready(proc: subprocess.Popen) -> float:
    """Seconds until ``proc`` is ready (see ``_ready``)."""
    start = time.perf_counter()
    while not _ready(proc):
        assert proc.poll() is None, f"exit {proc.returncode} before its signal handlers were installed"
        assert time.perf_counter() - start < 120, "no signal handlers after 120 s"
        time.sleep(0.002)
    return time.perf_counter() - start


def _finish(argv: list[str], tmp: Path) -> float:
    """Run ``argv`` to success; the seconds it works after it is ready."""
    proc = _start(argv, tmp)
    _wait_ready(proc)
    start = time.perf_counter()
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return time.perf_counter() - start


def _ended_in_start_up(code: int, err: str) -> bool:
    """A SIGINT caught by the interpreter while it imports its site module (before any evtools code): it exits 1
    with "Fatal Python error: init_import_site" and the KeyboardInterrupt's traceback, as a loaded machine shows."""
    return code == 1 and "Fatal Python error: init_import_site" in err and "KeyboardInterrupt" in err


def _strays(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name]


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="readiness is read from /proc (Linux)")
@pytest.mark.parametrize("command", ["quality", "layout", "report", "refresh"])
def test_killed_or_interrupted_runs_keep_the_previous_output(tmp_path, command, quick):
    """Each signal at random moments after readiness: twice per signal in make test-all (once for the report), once
    in make test; and SIGINT and SIGTERM at once after the start."""
    rng = random.Random(f"faults-{command}")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".evtools"))
    config, out = project / "evtools.toml", tmp_path / "out"
    state = project / ".evtools"
    if command == "refresh":
        _finish(["refresh", "--config", str(config), "--until", "2026-02-01"], tmp)
        out = state
    seconds = _finish(_argv(command, config, out), tmp)
    if command == "refresh":  # each trial starts again from the aggregate of 2026-02-01
        shutil.rmtree(state)
        _finish(["refresh", "--config", str(config), "--until", "2026-02-01"], tmp)
        baseline = tmp_path / "baseline"
        shutil.copytree(state, baseline)
    before = digest(out)
    trials = [(signum, False) for signum in (signal.SIGINT, signal.SIGTERM)]  # at once: before it is ready
    trials += [(signum, True) for signum in SIGNALS for _ in range(2 if command != "report" and not quick else 1)]
    for signum, after_ready in trials:
        if command == "refresh":
            shutil.rmtree(state)
            shutil.copytree(baseline, state)
            before = digest(out)
        left = set(_strays(out.parent))  # what earlier SIGKILLs left
        proc = _start(_argv(command, config, out), tmp)
        moment = 0.0
        if after_ready:
            moment = rng.uniform(0.0, 0.95) * max(seconds, 0.1)
            _wait_ready(proc)
            time.sleep(moment)
        ready = _ready(proc)  # read before the signal: a process ready now is ready when the signal lands
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=600)
        name = signal.Signals(signum).name
        what = f"{command} {name} {moment:.2f} s after {'readiness' if after_ready else 'start'}: exit {proc.returncode}"
        if proc.returncode == 0:  # it finished first: then its output is whole and new
            assert not _strays(out.parent), what  # and it cleared what earlier kills left
            continue
        if signum == signal.SIGKILL:
            assert proc.returncode == -signal.SIGKILL, f"{what}: {err}"
        elif ready:
            assert proc.returncode == 130, f"{what}: {err}"
            assert err.strip() == f"evtools: interrupted ({name})", what
        elif _ended_in_start_up(proc.returncode, err):  # the interpreter's start-up: it ends the process
            pass
        else:  # evtools' handlers, or the signal's default action
            assert proc.returncode in (130, -signum), f"{what}: {err}"
        if signum != signal.SIGKILL:
            assert set(_strays(out.parent)) <= left, what  # interrupted runs clean up after themselves
        # what a SIGKILL leaves beside the output (its temporary folder) the next run removes (checked below)
        now = {k: v for k, v in digest(out).items() if ".tmp-" not in k and ".old-" not in k}
        if command == "refresh":  # the database file may be checkpointed: what it holds is checked instead
            now = {k: v for k, v in now.items() if k == "aggregate.snapshot.duckdb"}
            assert now and refresh.verify(load_config(config)).empty, what
            continue
        # the previous output, unchanged; or, when the signal came after the switch, the new one, whole
        assert now == before or set(now) == set(before), what
    _finish(_argv(command, config, out), tmp)  # the next run succeeds, and clears what a killed run left
    assert not _strays(out.parent)
    assert not list(tmp.glob("evtools-spill-*"))  # a killed run's spill folder too
    if command == "refresh":
        assert refresh.verify(load_config(config)).empty
