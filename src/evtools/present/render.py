"""HTML for the report pages and the indexes: Jinja templates (``templates/html``) over the typed results.

Notebooks display what these functions return (an ``Html`` string that Jupyter shows as HTML). Tables are
formatted here and only here: a label and a kind per column (``fmt.KINDS``: units, thousands separators, dates as
dates), no index column, an unknown value as a dash with a footnote, at most ``MAX_ROWS`` rows with the whole table
written as csv beside the page.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from evtools.core import fmt
from evtools.present import tables
from evtools.present.conclusions import conclusion, definitions, late_figures

MAX_ROWS = 15
RIGHT = {"count", "events", "signed", "share", "bytes", "seconds", "ratio", "number"}


class Html(str):
    """HTML that Jupyter displays as HTML (and that is a plain string everywhere else)."""

    def _repr_html_(self) -> str:
        return str(self)


@cache
def _env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("evtools", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update({k: v for k, v in fmt.KINDS.items() if k not in ("text",)})
    env.filters["period"] = lambda pair: fmt.period(*pair)
    env.filters["pct"] = fmt.share
    env.filters["title"] = lambda name: name.replace("_", " ")
    return env


def template(name: str, **context) -> Html:
    return Html(_env().get_template(f"html/{name}").render(**context))


def css() -> str:
    """The one stylesheet of every page."""
    return _env().loader.get_source(_env(), "evtools.css")[0]


def show(result) -> Html:
    """A result's conclusion: its headline, the sentences behind it, notes on unknown values."""
    return template("conclusion.html.j2", c=conclusion(result))


def table(
    frame: pd.DataFrame,
    columns: list[tables.Col],
    name: str | None = None,
    folder: str | Path | None = None,
    caption: str | None = None,
    max_rows: int = MAX_ROWS,
    flag: str | None = None,
) -> Html:
    """``frame`` as a formatted table of its first ``max_rows`` rows; with ``name`` and ``folder``, the whole frame
    (every column) is written to ``folder/name.csv`` and linked; a row whose ``flag`` column is true is highlighted."""
    csv = None
    if name and folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        csv = f"{name}.csv"
        frame.to_csv(Path(folder) / csv, index=False)
    notes: list[str] = []
    rows = []
    for record in frame.head(max_rows).to_dict(orient="records"):
        cells = []
        for col in columns:
            raw = record.get(col.name)
            text = fmt.value(col.kind, raw)
            mark = ""
            if text == fmt.DASH:
                if col.unknown not in notes:
                    notes.append(col.unknown)
                mark = str(notes.index(col.unknown) + 1)
            cells.append({"text": text, "mark": mark, "right": col.kind in RIGHT})
        rows.append({"cells": cells, "bad": bool(flag and record.get(flag))})
    return template(
        "table.html.j2",
        columns=[{"label": c.label, "right": c.kind in RIGHT} for c in columns],
        rows=rows,
        total=len(frame),
        shown=min(len(frame), max_rows),
        csv=csv,
        caption=caption,
        notes=notes,
    )


def quote(module) -> Html:
    """The definitions a module's docstring states, as a list."""
    return template("definitions.html.j2", items=definitions(module), module=module.__name__)


def code(statements: dict[str, str] | list[tuple[str, str]], open_first: bool = True) -> Html:
    """Named code blocks (DDL, SQL, commands), the first open and the others folded."""
    items = list(statements.items()) if isinstance(statements, dict) else list(statements)
    return template("code.html.j2", items=items, open_first=open_first)


def note(text: str) -> Html:
    """A sentence in place of a figure or table that has nothing to show."""
    return template("note.html.j2", text=text)


def summary_page(summary, version: str, generated: str) -> str:
    """A run's index.html: the executive summary of an investigation, or the daily verdict."""
    return template(
        "run_index.html.j2", s=summary, version=version, generated=generated, css=css(), conclusion=conclusion
    )


def runs_page(rows: list[dict], version: str, generated: str) -> str:
    """reports/index.html: every run, newest first."""
    return template("runs_index.html.j2", runs=rows, version=version, generated=generated, css=css())


def daily(d) -> Html:
    """The daily page's opening: the verdict, then each failed expectation explained."""
    return template("daily.html.j2", d=d, c=conclusion(d))


def late_paragraph(q) -> Html:
    """Why the lookback's missed events and the late rows differ (nothing when they do not)."""
    text = late_figures(q)
    return Html(f'<p class="evtools">{_escape(text)}</p>' if text else "")


def evidence(explained, roles: dict, folder: str | Path | None = None) -> Html:
    """One key's waterfall in words, then the rows behind each part, one table per role."""
    parts = [conclusion_of_key(explained.waterfall)]
    for role, what in roles.items():
        rows = explained.evidence(role)
        if role != "counted" and len(rows):
            caption = f"{what[0].upper()}{what[1:]}: {fmt.count(len(rows))} rows, {fmt.count(rows['events'].sum())} events"
            parts.append(table(rows, tables.EVIDENCE, f"evidence_{role}", folder, caption=caption))
    return Html("\n".join(parts))


def conclusion_of_key(w: dict) -> Html:
    """One key's difference, part by part."""
    return template("key.html.j2", w=w, parts=("drift", "duplicates", "corrections", "late", "residual"))


def docs_link(path) -> Html:
    """A link to the Great Expectations Data Docs of the run, when they were built."""
    if not path:
        return note("Great Expectations Data Docs were not built for this run.")
    return Html(
        '<p class="evtools"><a href="data_docs/index.html">Great Expectations Data Docs for this run</a></p>'
    )


def _escape(text: str) -> str:
    import html

    return html.escape(text)
