"""What the CLI prints: the only module that writes to stdout. Figures are written by ``fmt``, sentences by
``conclusions``, from the same typed results the reports and Slack show."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from evtools.core.redact import scrub

if TYPE_CHECKING:
    import pandas as pd

from evtools.core import fmt
from evtools.present import conclusions, results, tables


def echo(text: str = "") -> None:
    print(scrub(text))


def written(paths: list, out) -> None:
    print(f"\nwrote {', '.join(p.name for p in paths)} to {out}")


def error(text: str) -> None:
    """The one line of a failed command, on stderr."""
    print(f"evtools: {scrub(text)}", file=sys.stderr)


def traceback(e: BaseException) -> None:
    """The traceback of ``e`` (``--debug``), secrets removed."""
    import traceback as tb

    print(scrub("".join(tb.format_exception(e))).rstrip(), file=sys.stderr)


def table(
    frame: pd.DataFrame, title: str | None = None, max_rows: int = 30, columns: list | None = None
) -> None:
    """A frame as aligned text: with ``columns`` (``tables.Col``), only those, labelled and formatted by kind."""
    if title:
        print(f"\n{title}")
    if frame.empty:
        print("  (no rows)")
        return
    import pandas as pd

    if columns:
        shown = pd.DataFrame(
            {
                c.label: [fmt.value(c.kind, v) for v in frame[c.name].head(max_rows)]
                for c in columns
                if c.name in frame
            }
        )
    else:
        shown = frame.head(max_rows).astype(object).where(frame.head(max_rows).notna(), fmt.DASH)
    with pd.option_context("display.width", 160, "display.max_columns", 40, "display.max_colwidth", 60):
        print(scrub(shown.to_string(index=False)))
    if len(frame) > max_rows:
        print(f"  ... {len(frame) - max_rows:,} more rows")


def conclusion(result) -> None:
    """A typed result's conclusion: the headline, the sentences behind it, notes on unknown values."""
    c = conclusions.conclusion(result)
    print(c.headline)
    for point in c.points:
        print(f"  - {point}")
    for i, note in enumerate(c.notes, 1):
        print(f"  [{i}] {note}")


def parts(r: results.Reconciliation) -> None:
    """The reconciliation's parts: net, size, share of all parts, company-days where each is the cause."""
    print(f"\n  {'part':12s} {'net':>10s} {'|part|':>10s} {'share':>8s} {'main cause on':>14s}")
    for p in r.parts:
        print(
            f"  {p.name:12s} {fmt.signed(p.net):>10s} {fmt.count(p.abs):>10s} {fmt.share(p.share):>8s} {fmt.count(p.keys):>14s}"
        )


def explanation(e, roles: dict) -> None:
    w = e.waterfall
    print(
        f"company {w['company_id']} on {fmt.date(w['date'])}: dashboard {fmt.count(w['dashboard_events'])} (computed "
        f"{fmt.timestamp(w['computed_at'])}), API {fmt.count(w['api_events'])}, difference {fmt.signed(w['delta'])}: "
        f"cause {w['cause']} ({w['status']})"
    )
    for c in results.COMPONENTS:
        print(f"  {c:12s} {fmt.signed(w[c]):>9s}")
    if w.get("tz_zone"):
        print(f"  the residual vanishes when days are counted in {w['tz_zone']}")
    for role, what in roles.items():
        rows = e.evidence(role)
        if role != "counted" and not rows.empty:
            table(
                rows,
                f"{what}: {len(rows):,} rows, {fmt.count(rows['events'].sum())} events",
                columns=tables.EVIDENCE,
            )


def flags(profile) -> None:
    for f in profile.flags:
        print(f"flag {f['flag']}: {f['evidence']}")
