"""Tests needing a system component are left out where it is missing, with one line naming the Debian package, and
are an error under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _collect(tmp_path: Path, ci: bool, with_chromium: bool) -> subprocess.CompletedProcess:
    """Collect the browser tests on a PATH holding this Python and, if asked, a chromium but no chromedriver."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if with_chromium:
        (bin_dir / "chromium").symlink_to("/bin/true")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "JAVA_HOME")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}"
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--collect-only",
            "-q",
            "tests/test_browser.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("with_chromium", [True, False])
def test_missing_chromium_driver_leaves_the_browser_tests_out(tmp_path, with_chromium):
    proc = _collect(tmp_path, ci=False, with_chromium=with_chromium)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("evtools: left out")]
    assert proc.returncode == 5, proc.stdout + proc.stderr  # nothing left to run, nothing failed
    assert len(lines) == 1
    missing = "chromedriver not found" if with_chromium else "chromium and chromedriver not found"
    assert missing in lines[0] and "apt-get install chromium chromium-driver" in lines[0]
    assert "tests/test_browser.py" in lines[0]


def test_under_ci_a_missing_component_is_an_error(tmp_path):
    proc = _collect(tmp_path, ci=True, with_chromium=True)
    assert proc.returncode == 4
    assert "CI needs headless Chromium and its WebDriver: chromedriver not found" in proc.stderr
