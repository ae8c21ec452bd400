"""No secret is ever printed, logged or written: every command runs with a planted webhook URL (and verbose logging),
then with a config whose source names a database URL with a password; neither secret may appear in anything printed
or in any file written under the test's folder (outputs, reports, run logs, the aggregate and its snapshot).

The project is a small generated sample (10,000 rows, 5 companies, 14 days, with the generator's faults): what is
checked is what the commands print and write, not their figures, and on it each command takes a fraction of its time
on the committed sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from evtools.analyses.sample import SampleSpec, generate
from evtools.app.cli import main

pytestmark = pytest.mark.slow
WEBHOOK = "http://127.0.0.1:9/services/T0/B0/PLANTED-WEBHOOK-SECRET"
PASSWORD = "PLANTED-DB-SECRET"


def test_no_command_shows_or_writes_a_secret(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    generate(SampleSpec(rows=10_000, companies=5, days=14), project, progress=False)
    config = str(project / "evtools.toml")
    out = tmp_path / "out"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", WEBHOOK)
    monkeypatch.chdir(tmp_path)
    runs = [
        ["sources", "--config", config, "--out", str(out / "sources")],
        ["quality", "--config", config, "--out", str(out / "quality")],
        ["reconcile", "--config", config, "--out", str(out / "reconcile")],
        ["explain", "1001", "2026-01-05", "--config", config, "--out", str(out / "explain")],
        ["profile", "--config", config, "--out", str(out / "profile")],
        ["layout", "--config", config, "--out", str(out / "layout"), "--repeats", "1"],
        ["refresh", "--config", config, "--until", "2026-01-08"],
        ["refresh", "--config", config],
        ["refresh", "--config", config, "--verify"],
        ["validate", "--config", config, "--out", str(out / "validate")],
        ["sql", "--config", config],
        ["sql", "--dialect", "snowflake", "reconcile", "--config", config],
        ["sql", "--script", "refresh", "--config", config],
        ["report", "daily", "--config", config, "--out", str(out / "reports")],
        ["notify", "--reports", str(out / "reports"), "--dry-run"],
        ["notify", "--reports", str(out / "reports")],  # the webhook cannot be reached: exit 2
        ["init", str(tmp_path / "mine"), "--fact-events", str(project / "fact_events")],
    ]
    codes = [main(["-v", "--debug", *argv]) for argv in runs]
    assert codes[:-4] == [0] * 9 + [1, 0, 0, 0] and codes[-4:] == [0, 0, 2, 0], codes

    # a source named by a database URL with a password: every command that opens it fails, without showing it
    bad = project / "bad.toml"
    bad.write_text(
        (project / "evtools.toml")
        .read_text()
        .replace(
            'dashboard = "dashboard.parquet"',
            f'dashboard = "postgresql://evtools:{PASSWORD}@db.example:5432/bi"',
        )
    )
    for command in ("sources", "reconcile", "validate", "quality"):
        assert main(["-v", "--debug", command, "--config", str(bad)]) in (0, 2), command
    printed = capsys.readouterr()
    for secret in ("PLANTED-WEBHOOK-SECRET", PASSWORD):
        assert secret not in printed.out and secret not in printed.err
        leaked = [
            p
            for p in tmp_path.rglob("*")
            if p.is_file() and p.name != "bad.toml" and secret.encode() in p.read_bytes()
        ]
        assert leaked == [], secret
    assert "***" in printed.err  # the failing lines named the source, with its password masked
    assert Path(tmp_path / "project" / ".evtools" / "runs.jsonl").is_file()
