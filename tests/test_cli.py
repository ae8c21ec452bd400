"""The CLI's error boundary: one line and exit code 2 for bad input, nothing half-written, --debug re-raises."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evtools.cli import main
from evtools.errors import ConfigError
from tests.conftest import write_config


def test_sources_summarises_the_sample(sample_dir, capsys, tmp_path):
    code = main(["sources", "--config", str(sample_dir / "evtools.toml"), "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 0
    rows = json.loads((sample_dir / "sample.json").read_text())["fact_rows"]
    assert "fact_events" in out and f" {rows} " in out
    assert (tmp_path / "o" / "sources.json").is_file()


def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys):
    path = write_config(tmp_path, "[sources]\nfact_events = 'x.parquet'\n[settings]\nnope = 1\n")
    code = main(["sources", "--config", str(path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "unknown key 'settings.nope'" in err and str(path) in err
    assert not (tmp_path / "o").exists()


def test_missing_column_exit_2_and_out_untouched(tmp_path, capsys, sample_dir):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("before")
    text = (
        (sample_dir / "evtools.toml")
        .read_text()
        .replace("[settings]", "[columns.fact_events]\nevents = 'n'\n\n[settings]")
    )
    text = text.replace('"fact_events/', f'"{sample_dir}/fact_events/').replace(
        '"api_daily', f'"{sample_dir}/api_daily'
    )
    text = text.replace('"dashboard', f'"{sample_dir}/dashboard')
    path = write_config(tmp_path, text)
    code = main(["sources", "--config", str(path), "--out", str(out)])
    assert code == 2
    assert "column 'n' (fact_events.events) not found" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_debug_reraises(tmp_path):
    with pytest.raises(ConfigError):
        main(["--debug", "sources", "--config", str(tmp_path / "none.toml")])


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as err:
        main(["sample", "--out", "x", "--rows", "-3"])
    assert err.value.code == 2
    assert "expected a positive number" in capsys.readouterr().err


def test_console_script_runs_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "evtools.cli", "sources", "--config", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("evtools: ") and "Traceback" not in proc.stderr


def test_sample_command_writes_a_usable_sample(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(
        ["--no-progress", "sample", "--out", str(out), "--rows", "3000", "--companies", "4", "--days", "7"]
    )
    assert code == 0
    assert "fact_events rows" in capsys.readouterr().out
    assert main(["sources", "--config", str(out / "evtools.toml")]) == 0


def test_every_subcommand_has_its_function():
    from evtools.cli import COMMANDS
    from evtools.cliargs import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)
