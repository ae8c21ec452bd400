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

import contextlib
import datetime as dt
import json
import logging
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path

import nbformat

from evtools import __version__
from evtools.core import fsutil
from evtools.core.errors import EvtoolsError
from evtools.present import findings, render
from evtools.present.results import stopped

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
    error: str | None = None  # what stopped it, in words
    step: str | None = None  # the notebook's section where it stopped
    exit_code: int = 0  # what the failure means in the exit-code table (evtools.errors)
    records: dict = field(default_factory=dict)

    @property
    def html(self) -> str:
        return f"{self.name}.html"

    @property
    def explanation(self) -> str | None:
        """One or two sentences for a stakeholder: which step failed and why (the traceback stays in the .ipynb)."""
        return None if self.status == "ok" else stopped(self.name, self.step, self.error)


def record(name: str, summary: dict | list):
    """Hand a result's summary to the report runner (shown as nothing in the notebook and the HTML); return it as
    the typed result the report reads back (``results.KINDS``), so the page shows what the summary will say."""
    from IPython.display import display

    from evtools.present.results import KINDS

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


def check_parameters(kind: str, declared: dict[Path, dict], params: dict) -> None:
    """Reject a parameter that no notebook of the report declares (papermill would only warn)."""
    known = set().union(*declared.values()) if declared else set()
    unknown = sorted(set(params) - known)
    if unknown:
        raise EvtoolsError(
            f"report {kind}: unknown parameter {', '.join(unknown)}; expected one of: {', '.join(sorted(known))}"
        )


def default_notebooks() -> Path:
    """The notebooks shipped with evtools (the repository's notebooks/, carried into the package)."""
    return Path(str(resources.files("evtools").joinpath("notebooks")))


def run_notebook(
    path: Path,
    out: Path,
    params: dict,
    timeout: int,
    progress: str | None = None,
    cwd: Path | None = None,
    kernel: Kernel | None = None,
) -> NotebookRun:
    """Execute one notebook into ``out``/<name>.ipynb and render ``out``/<name>.html; never raises on cell errors.

    ``progress``: the label of a cell progress bar on stderr (None: no bar). ``kernel``: a report's kernel to run
    in (its namespace reset first); None: a kernel of its own, shut down after it. A failed run's ``error`` says in
    words what went wrong and ``step`` names the section of the notebook where it stopped."""
    import papermill

    name = path.stem
    run = NotebookRun(name)
    target = out / f"{name}.ipynb"
    start = time.perf_counter()
    quiet = not log.isEnabledFor(logging.DEBUG)
    if quiet:  # the failure is reported once, in words, by the runner
        logging.getLogger("papermill").setLevel(logging.CRITICAL)
    try:
        managed = {"km": kernel.fresh(timeout)} if kernel else {"kernel_manager_class": _kernel_manager(quiet)}
        papermill.execute_notebook(
            str(path),
            str(target),
            parameters=params,
            kernel_name="python3",
            cwd=str(cwd or out),
            execution_timeout=timeout,
            progress_bar={"desc": progress, "leave": True} if progress else False,
            log_output=False,
            start_timeout=timeout,
            **managed,
        )
    except (
        Exception
    ) as e:  # papermill: cell error, timeout, dead kernel; all end the run as failed (not a signal)
        run.status = "failed"
        run.error, run.exit_code = failure_reason(e, timeout)
        log.info("%s failed: %s", name, run.error)
    run.seconds = round(time.perf_counter() - start, 2)
    if target.exists():
        notebook = nbformat.read(target, as_version=4)
        if run.status != "ok":
            run.step = failed_step(notebook, name)
        run.records = read_records(notebook)
        render_html(
            notebook, out / run.html, title=findings.TITLES.get(name, name), status=run.status, failure=run.explanation
        )
    else:
        run.step = "start"
        (out / run.html).write_text(
            f"<html><body><h1>{escape(name)}</h1><p>{escape(run.explanation or '')}</p></body></html>",
            encoding="utf-8",
        )
    return run


@cache
def _kernel_manager(quiet: bool) -> type:
    """A Jupyter kernel manager class; ``quiet``: its kernels write their stderr nowhere (their transport warning,
    "KeyboardInterrupt caught", a traceback when a run is interrupted as it starts are noise in a report run: what
    failed is reported once, in words)."""
    import subprocess

    from jupyter_client.manager import AsyncKernelManager

    if not quiet:
        return AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            cmd, kw = await super()._async_pre_start_kernel(**kw)
            kw.setdefault("stderr", subprocess.DEVNULL)
            return cmd, kw

    return QuietKernelManager


# what a report's kernel runs before each notebook after the first: an empty namespace, cells counted from 1, no
# figures left open, the run's folder as the working folder (the imported modules stay loaded: that is what reusing the kernel saves)
_RESET = """get_ipython().run_line_magic("reset", "-f")
get_ipython().execution_count = 1
import matplotlib.pyplot as _plt, os as _os
_plt.close("all"); _os.chdir({cwd!r}); del _plt, _os
"""


class Kernel:
    """One kernel for a report's notebooks, run one after another: each notebook after the first starts from an
    empty namespace (``%reset``) in a kernel whose imports are done (about 2.5 s a notebook saved). Use as a
    context manager; the kernel is shut down when the block ends, however it ends."""

    def __init__(self, cwd: Path, quiet: bool):
        self.cwd = str(cwd)
        self.km = None
        self.quiet = quiet
        self.used = False

    def fresh(self, timeout: int):
        """The kernel manager for the next notebook: not started yet for the first (papermill starts it in the
        run's folder), its namespace reset for the others."""
        if self.km is None:
            self.km = _kernel_manager(self.quiet)(kernel_name="python3")
        elif self.used:
            self._run(_RESET.format(cwd=self.cwd), timeout)
        self.used = True
        return self.km

    def _run(self, code: str, timeout: int) -> None:
        from jupyter_client.blocking.client import BlockingKernelClient

        client = BlockingKernelClient(connection_file=self.km.connection_file)
        client.load_connection_file()
        client.start_channels()
        try:
            reply = client.execute_interactive(code, store_history=False, timeout=timeout, output_hook=lambda m: None)
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the report's kernel could not be reset: {reply['content'].get('evalue', '')}")

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc) -> None:
        if self.km is not None and self.km.has_kernel:
            from jupyter_client.utils import run_sync

            with contextlib.suppress(Exception):
                run_sync(self.km.shutdown_kernel)()  # asked to end: its atexit work (a spill folder) is done


def failure_reason(e: BaseException, timeout: int) -> tuple[str, int]:
    """What stopped a notebook, in words (an evtools error's own message, a timeout, a dead kernel), and its exit
    code: an evtools error's own; 3 for the engine, the kernel, a timeout or an unexpected error; 130 interrupted."""
    kind = type(e).__name__
    if kind == "PapermillExecutionError":
        ename, evalue = getattr(e, "ename", ""), str(getattr(e, "evalue", "")).strip()
        detail = evalue.splitlines()[0] if evalue else ename
        if ename in _EVTOOLS_ERRORS:
            return detail[:300], _EVTOOLS_ERRORS[ename]
        if ename in ("KeyboardInterrupt", "InterruptException"):
            return "the notebook was interrupted", 130
        if ename in ("OutOfMemoryException", "MemoryError"):
            return f"out of memory ({detail})"[:300], 3
        return f"an unexpected error in the notebook ({ename}: {detail})"[:300], 3
    if "Timeout" in kind:
        return f"a cell ran longer than the timeout of {timeout} s (see --timeout)", 3
    if "DeadKernel" in kind:
        return "the notebook's kernel died (it ran out of memory or was killed)", 3
    text = str(e).strip().splitlines()
    if "Kernel didn't respond" in str(e) or "kernel" in kind.lower():
        return f"the notebook's kernel did not start within {timeout} s", 3
    return f"{kind}: {text[0] if text else ''}"[:300], 3


_EVTOOLS_ERRORS = {
    "EvtoolsError": 2,
    "ConfigError": 2,
    "DataError": 2,
    "CheckFailed": 1,
    "EngineError": 3,
    "ConcurrentRun": 3,
    "Interrupted": 130,
}


def failed_step(notebook: nbformat.NotebookNode, name: str) -> str:
    """The section where a notebook stopped: the heading of the last markdown cell above the failing cell."""
    cells = notebook.cells
    failing = next(
        (
            i
            for i, c in enumerate(cells)
            if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))
        ),
        len(cells) - 1,
    )
    for cell in reversed(cells[:failing]):
        if cell.cell_type == "markdown" and "papermill-error-cell-tag" not in cell.metadata.get("tags", []):
            heading = next((line for line in cell.source.splitlines() if line.startswith("#")), "")
            if heading:
                return heading.lstrip("#").strip()
    return name


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


def render_html(
    notebook: nbformat.NotebookNode, path: Path, title: str, status: str = "ok", failure: str | None = None
) -> None:
    """Self-contained HTML: no code cells, figures embedded, no external scripts; a failed run shows ``failure`` in
    words instead of its traceback."""
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
    # papermill's error banner cells and tracebacks are for the audit record (.ipynb), not for readers
    notebook.cells = [
        c for c in notebook.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])
    ]
    for cell in notebook.cells:  # the records are for the runner, not for readers
        if "outputs" in cell:
            cell.outputs = [
                o for o in cell.outputs if MIME not in o.get("data", {}) and o.get("output_type") != "error"
            ]
    body, _ = exporter.from_notebook_node(
        notebook,
        resources={
            "evtools_title": title,
            "evtools_status": status,
            "evtools_failure": failure,
            "evtools_css": render.css(),
            "metadata": {"name": title},
        },
    )
    path.write_text(body, encoding="utf-8")


def run_report(
    kind: str,
    config: Path,
    reports_dir: Path,
    notebooks_dir: Path | None = None,
    date: dt.date | None = None,
    params: dict | None = None,
    timeout: int = 900,
    only: list[str] | None = None,
    suites: Path | None = None,
    progress: bool = False,
    wait: float = 0.0,
) -> dict:
    """Run the ``kind`` report's notebooks in order; return the run record (also written as run.json).

    The run is written beside its target and published whole: into ``<date>/<kind>/`` when it succeeded, replacing
    the previous report of that date in one rename, else into ``<date>/<kind>-failed/`` (the audit record), leaving
    the previous report as it was. One report at a time writes into ``reports_dir`` (``wait``: seconds to wait for
    another); the daily notebook's refresh waits as long for a running refresh.

    The report's date: ``date`` (or the ``run_date`` parameter); by default, for the daily report the latest complete
    date of the data (``daily.report_date``), for the investigation today (UTC). Every input is checked before the
    first kernel starts: unknown notebooks or parameters are exit 2, a daily date without data exit 1."""
    if kind not in REPORTS:
        raise EvtoolsError(f"report '{kind}': expected one of {', '.join(REPORTS)}")
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks()
    params = dict(params or {})
    unknown = sorted(set(only or ()) - set(REPORTS[kind]))
    if unknown:
        raise EvtoolsError(
            f"report {kind} --only {', '.join(unknown)}: no such notebook; expected one of "
            f"{', '.join(REPORTS[kind])}"
        )
    names = [n for n in REPORTS[kind] if only is None or n in only]
    paths = [notebooks_dir / f"{n}.ipynb" for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise EvtoolsError(f"{notebooks_dir}: notebook not found: {', '.join(missing)} (see --notebooks)")
    declared = {path: notebook_parameters(path) for path in paths}
    check_parameters(kind, declared, params)
    date = _report_date(kind, Path(config), date, params.pop("run_date", None))
    reports_dir = fsutil.check_folder(reports_dir)
    day_dir = reports_dir / date.isoformat()
    final, failed_dir = day_dir / kind, day_dir / f"{kind}-failed"
    with fsutil.locked(reports_dir / ".evtools.lock", wait, f"{reports_dir}"):
        day_dir.mkdir(parents=True, exist_ok=True)
        for target in (final, failed_dir):
            fsutil.clean_strays(target)
        stage = Path(tempfile.mkdtemp(prefix=f".{kind}.tmp-", dir=day_dir))
        try:
            record_, runs = _run_notebooks(
                kind, config, date, paths, declared, params, suites, stage, timeout, progress, wait
            )
            ok = record_["status"] == "ok"
            fsutil.publish(stage, final if ok else failed_dir)
            if ok and failed_dir.exists():
                shutil.rmtree(failed_dir)
            rebuild_index(reports_dir)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    if not ok:
        failed = next((r for r in runs if r.status != "ok"), None)
        where = (
            f"\u201c{failed.step}\u201d in {failed.name}: {failed.error}"
            if failed
            else "not every notebook ran"
        )
        error = ReportFailed(
            f"{kind} report {date} failed at {where}; the previous report stays, this run's notebooks are in "
            f"{failed_dir}"
        )
        error.exit_code = failed.exit_code if failed else ReportFailed.exit_code
        raise error
    return record_


def _run_notebooks(kind, config, date, paths, declared, params, suites, out, timeout, progress, wait):
    """Run the notebooks in order into ``out`` (stopping at the first failure); write run.json and the run's index."""
    fixed = {
        "config": str(Path(config).resolve()),
        "run_date": date.isoformat(),
        "report_dir": str(out.resolve()),
        "wait": wait,
        **({"suites": str(Path(suites).resolve())} if suites else {}),
    }
    runs: list[NotebookRun] = []
    with Kernel(out, quiet=not log.isEnabledFor(logging.DEBUG)) as kernel:
        for i, path in enumerate(paths, 1):
            given = {k: v for k, v in {**fixed, **params}.items() if k in declared[path]}
            label = f"notebook {i} of {len(paths)} ({path.stem})" if progress else None
            run = run_notebook(path, out, given, timeout, label, kernel=kernel)
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
        "verdict": summary.failed or " ".join(summary.verdict),
        "notebooks": [asdict(r) | {"html": r.html} for r in runs],
        "records": records,
        "generated": generated,
    }
    fsutil.write_text(out / "run.json", json.dumps(record_, indent=2, default=str) + "\n")
    fsutil.write_text(out / "index.html", render.summary_page(summary, __version__, generated))
    return record_, runs


def _report_date(kind: str, config: Path, date: dt.date | None, run_date) -> dt.date:
    """The report's date from --date and -p run_date (they must agree), else its default."""
    if run_date not in (None, ""):
        try:
            given = dt.date.fromisoformat(str(run_date))
        except ValueError:
            raise EvtoolsError(f"-p run_date={run_date}: expected a date YYYY-MM-DD") from None
        if date and date != given:
            raise EvtoolsError(f"--date {date} and -p run_date={given} disagree; give one of them")
        date = given
    if kind != "daily":
        return date or dt.datetime.now(dt.UTC).date()
    from evtools.app.daily import report_date
    from evtools.core.config import load_config
    from evtools.engines.sources import open_sources

    con = open_sources(load_config(config), names=("fact_events",), check=False)
    try:
        return report_date(con, date)
    finally:
        con.close()


def rebuild_index(reports_dir: Path) -> Path:
    """reports/index.html: every run under ``reports_dir`` with its date, status and headline, newest first."""
    rows = []
    for path in sorted(reports_dir.glob("*/*/run.json"), reverse=True):
        if any(part.startswith(".") for part in path.relative_to(reports_dir).parts):
            continue  # a run being written (or one a killed run left)
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
    fsutil.write_text(target, html)
    return target
