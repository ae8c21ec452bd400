"""The CLI's error boundary: one line and exit code 2 for bad input, nothing half-written, --debug re-raises."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evtools.app.cli import main
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


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path, capsys):
    assert main(["--debug", "sources", "--config", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "ConfigError" in err
    assert err.splitlines()[-1].startswith("evtools: ") and err.splitlines()[-1].endswith("(see --config)")


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as err:
        main(["sample", "--out", "x", "--rows", "-3"])
    assert err.value.code == 2
    assert "expected a positive number" in capsys.readouterr().err


def test_console_script_runs_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "evtools.app.cli", "sources", "--config", str(tmp_path / "none.toml")],
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
    from evtools.app.cli import COMMANDS
    from evtools.app.cliargs import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)


def test_global_flags_work_after_the_subcommand(sample_dir, capsys):
    assert main(["sources", "--no-progress", "--config", str(sample_dir / "evtools.toml")]) == 0
    capsys.readouterr()
    assert main(["sources", "--config", str(sample_dir / "none.toml"), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_every_subcommand_help_says_what_it_does_and_writes():
    from evtools.app.cliargs import COMMANDS, build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        description = parser.format_help().split("\n\n")[1]  # after the usage block
        first = description.split(". ")[0]
        assert first[0].isupper() and len(first.split()) >= 5, name
        assert "Writes" in description or "writes" in description, name
        assert description.replace("\n", " ").startswith(COMMANDS[name][1][:40]), name


def _one_report(folder):
    run = folder / "2026-03-01" / "daily"
    run.mkdir(parents=True)
    record = {
        "kind": "daily",
        "date": "2026-03-01",
        "status": "ok",
        "headline": "h",
        "verdict": "OK all good",
    }
    (run / "run.json").write_text(json.dumps(record | {"records": {}, "generated": "2026-03-02 06:00"}))
    return folder


def test_notify_without_a_webhook_is_exit_2_saying_how(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    assert main(["notify", "--reports", str(_one_report(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SLACK_WEBHOOK_URL is not set" in err and "--dry-run" in err


@pytest.mark.parametrize(
    "url",
    [
        "hooks.slack.com/services/T0/B0/secret-token-XYZ",
        "https://hooks.slack.com/services/T0/B0/secret-token-XYZ x",
        "http://hooks.slack.com/services/T0/B0/secret-token-XYZ",
        "ftp://x/secret-token-XYZ",
    ],
)
def test_a_malformed_webhook_is_one_line_without_the_token(tmp_path, monkeypatch, capsys, url):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
    assert main(["-v", "notify", "--reports", str(_one_report(tmp_path))]) == 2
    captured = capsys.readouterr()
    assert "secret-token" not in captured.out + captured.err
    assert captured.err.startswith("evtools: SLACK_WEBHOOK_URL is not a webhook URL evtools can post to")


def test_notify_retries_rate_limits_and_server_errors(tmp_path, monkeypatch, capsys):
    import http.server
    import threading

    answers = [(429, {"Retry-After": "0"}), (503, {}), (200, {})]
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            code, headers = answers[len(received) - 1]
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(b"ok" if code == 200 else b"slow down")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "SLACK_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/services/T0/B0/secret-token"
    )
    try:
        assert main(["-v", "notify", "--reports", str(_one_report(tmp_path))]) == 0
    finally:
        server.shutdown()
    captured = capsys.readouterr()
    assert len(received) == 3 and received[-1]["blocks"][0]["type"] == "header"
    assert "posted to Slack (HTTP 200)" in captured.out and "secret-token" not in captured.out + captured.err
