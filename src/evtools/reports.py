"""Reports: notebooks executed by papermill, kept as .ipynb, rendered to self-contained HTML without code.

``run_report(kind, ...)`` runs a report's notebooks in order into ``reports/<date>/<kind>/``: each executed
notebook (the audit record, saved even when a cell fails), its HTML (inputs hidden, figures embedded, no external
scripts), the run's ``index.html`` (the executive summary: ``findings.summarise``) and ``run.json``; then it
rebuilds ``reports/index.html`` over every run. A notebook that fails, times out or loses its kernel stops the run,
which is marked failed and raises ``ReportFailed`` (exit code 1).

Notebooks hand their results to the report with ``record(name, summary)``: a display output with an evtools mime
type that the HTML ignores and the runner reads back, so no figure is computed twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import nbformat

from evtools import __version__, findings, render
from evtools.errors import EvtoolsError

log = logging.getLogger(__name__)

MIME = "application/vnd.evtools.record+json"
REPORTS = {
    "investigation": [
        "01_query_plan",
        "02_scan_volume",
        "03_duplicates_late_appends",
        "04_reconciliation",
        "05_incremental_refresh",
        "06_run_history",
    ],
    "daily": ["daily_report"],
}


class ReportFailed(EvtoolsError):
    """A report's notebook failed; the run is kept and marked failed."""

    exit_code = 1


@dataclass
class NotebookRun:
    name: str
    status: str = "ok"  # ok | failed
    seconds: float = 0.0
    error: str | None = None
    records: dict = field(default_factory=dict)

    @property
    def html(self) -> str:
        return f"{self.name}.html"


def record(name: str, summary: dict | list):
    """Hand a result's summary to the report runner (shown as nothing in the notebook and the HTML); return it as
    the typed result the report reads back (``results.KINDS``), so the page shows what the summary will say."""
    from IPython.display import display

    from evtools.results import KINDS

    clean = _plain(json.loads(json.dumps(summary, default=str)))
    display({MIME: {"name": name, "summary": clean}}, raw=True)
    if name not in KINDS:
        return clean
    try:
        return KINDS[name].from_summary(clean)
    except (KeyError, TypeError, ValueError) as e:
        log.warning("the %s record cannot be read as a result (%s: %s)", name, type(e).__name__, e)
        return clean


def _plain(value):
    """``value`` with NaN (pandas' missing value) as None, so the record is valid JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return None if isinstance(value, float) and value != value else value


def notebook_parameters(path: Path) -> dict:
    """The parameters a notebook declares in its tagged cell: name -> {type, default, help}."""
    import papermill

    return {k: dict(v) for k, v in papermill.inspect_notebook(str(path)).items()}


def check_parameters(path: Path, params: dict) -> None:
    """Reject a parameter the notebook does not declare (papermill would only warn)."""
    declared = notebook_parameters(path)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise EvtoolsError(
            f"{path}: unknown parameter {', '.join(unknown)}; expected one of: {', '.join(sorted(declared))}"
        )


def run_notebook(path: Path, out: Path, params: dict, timeout: int) -> NotebookRun:
    """Execute one notebook into ``out``/<name>.ipynb and render ``out``/<name>.html; never raises on cell errors."""
    import papermill

    name = path.stem
    run = NotebookRun(name)
    check_parameters(path, params)
    target = out / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(target),
            parameters=params,
            kernel_name="python3",
            cwd=str(path.parent),
            execution_timeout=timeout,
            progress_bar=False,
            log_output=False,
            start_timeout=120,
        )
    except Exception as e:  # papermill: cell error, timeout, dead kernel; all end the run as failed
        run.status = "failed"
        run.error = _error_line(e)
        log.warning("%s failed: %s", name, run.error)
    run.seconds = round(time.perf_counter() - start, 2)
    if target.exists():
        notebook = nbformat.read(target, as_version=4)
        run.records = read_records(notebook)
        render_html(notebook, out / run.html, title=findings.TITLES.get(name, name), status=run.status)
    else:
        (out / run.html).write_text(
            f"<html><body><h1>{name}</h1><p>failed before it ran: {run.error}</p></body></html>"
        )
    return run


def read_records(notebook: nbformat.NotebookNode) -> dict:
    """Every ``record(name, summary)`` a notebook made, by name."""
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                item = data[MIME]
                found[item["name"]] = item["summary"]
    return found


def render_html(notebook: nbformat.NotebookNode, path: Path, title: str, status: str = "ok") -> None:
    """Self-contained HTML: no code cells, figures embedded, no external scripts."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="evtools_report",
        extra_template_basedirs=[str(resources.files("evtools").joinpath("templates"))],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.log.setLevel(logging.ERROR)  # nbconvert warns about figures without alt text
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:  # the records are for the runner, not for readers
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if MIME not in o.get("data", {})]
    body, _ = exporter.from_notebook_node(
        notebook,
        resources={
            "evtools_title": title,
            "evtools_status": status,
            "evtools_css": render.css(),
            "metadata": {"name": title},
        },
    )
    path.write_text(body, encoding="utf-8")


def run_report(
    kind: str,
    config: Path,
    reports_dir: Path,
    notebooks_dir: Path,
    date: dt.date | None = None,
    params: dict | None = None,
    timeout: int = 900,
    only: list[str] | None = None,
) -> dict:
    """Run the ``kind`` report's notebooks in order; return the run record (also written as run.json)."""
    if kind not in REPORTS:
        raise EvtoolsError(f"report '{kind}': expected one of {', '.join(REPORTS)}")
    asked = date
    date = date or dt.datetime.now(dt.UTC).date()
    names = [n for n in REPORTS[kind] if only is None or n in only]
    paths = [notebooks_dir / f"{n}.ipynb" for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise EvtoolsError(f"{notebooks_dir}: notebook not found: {', '.join(missing)} (see --notebooks)")
    out = reports_dir / date.isoformat() / kind
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    runs: list[NotebookRun] = []
    base = {"config": str(Path(config).resolve()), **(params or {})}
    for path in paths:
        declared = notebook_parameters(path)
        extra = {"run_date": asked.isoformat()} if asked and "run_date" in declared else {}
        if "report_dir" in declared:
            extra["report_dir"] = str(out.resolve())
        mine = {k: v for k, v in {**base, **extra}.items() if k in declared or k in (params or {})}
        run = run_notebook(path, out, mine, timeout)
        runs.append(run)
        if run.status != "ok":
            break
    status = "ok" if all(r.status == "ok" for r in runs) and len(runs) == len(paths) else "failed"
    records = {k: v for r in runs for k, v in r.records.items()}
    summary = findings.summarise(kind, date, records, findings.pages(runs))
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    record_ = {
        "kind": kind,
        "date": date.isoformat(),
        "status": status,
        "headline": summary.headline,
        "verdict": " ".join(summary.verdict),
        "notebooks": [asdict(r) | {"html": r.html} for r in runs],
        "records": records,
        "generated": generated,
    }
    (out / "run.json").write_text(json.dumps(record_, indent=2, default=str) + "\n")
    (out / "index.html").write_text(render.summary_page(summary, __version__, generated), encoding="utf-8")
    rebuild_index(reports_dir)
    if status != "ok":
        failed = next((r for r in runs if r.status != "ok"), None)
        where = f"{failed.name}: {failed.error}" if failed else "not every notebook ran"
        raise ReportFailed(f"{kind} report failed in {where}; executed notebooks kept in {out}")
    return record_


def rebuild_index(reports_dir: Path) -> Path:
    """reports/index.html: every run under ``reports_dir`` with its date, status and headline, newest first."""
    rows = []
    for path in sorted(reports_dir.glob("*/*/run.json"), reverse=True):
        try:
            r = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
        rows.append(
            {
                "date": r["date"],
                "name": r["kind"],
                "href": str(path.parent.relative_to(reports_dir) / "index.html"),
                "status": r["status"],
                "headline": r["headline"],
            }
        )
    html = render.runs_page(rows, __version__, dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"))
    target = reports_dir / "index.html"
    target.write_text(html, encoding="utf-8")
    return target


def _error_line(e: Exception) -> str:
    name = type(e).__name__
    text = str(e).strip().splitlines()
    detail = next((line for line in reversed(text) if line.strip() and not line.startswith("-")), "")
    return f"{name}: {detail}"[:300]
