"""The run history: every command appends its record to the run log beside its config."""

from __future__ import annotations

import json

from evtools.app.cli import main


def test_every_command_appends_one_record_to_its_configs_log(sample_dir, tmp_path):
    log = sample_dir / ".evtools" / "runs.jsonl"
    before = log.read_text().splitlines() if log.exists() else []
    assert main(["sources", "--config", str(sample_dir / "evtools.toml")]) == 0
    assert (
        main(["sources", "--config", str(sample_dir / "evtools.toml"), "--out", str(tmp_path / "x" / "y")])
        == 0
    )
    lines = log.read_text().splitlines()[len(before) :]
    assert [json.loads(line)["command"] for line in lines] == ["sources", "sources"]
    assert json.loads(lines[0])["status"] == "ok"
