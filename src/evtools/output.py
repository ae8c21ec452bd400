"""What the CLI prints: the only module that writes to stdout."""

from __future__ import annotations

import json
import sys
from typing import Any

import pandas as pd


def echo(text: str = "") -> None:
    print(text)


def error(text: str) -> None:
    print(f"evtools: {text}", file=sys.stderr)


def table(frame: pd.DataFrame, title: str | None = None, max_rows: int = 30) -> None:
    if title:
        print(f"\n{title}")
    if frame.empty:
        print("  (no rows)")
        return
    with pd.option_context("display.width", 160, "display.max_columns", 40, "display.max_colwidth", 60):
        print(frame.head(max_rows).to_string(index=False))
    if len(frame) > max_rows:
        print(f"  ... {len(frame) - max_rows} more rows")


def as_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))
