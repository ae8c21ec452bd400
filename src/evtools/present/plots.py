"""Figures for the notebooks and reports, in one style: a title that states the finding, axis labels with units,
integer ticks for counts, dates on time axes, labels inside the frame. A series with nothing to draw gives a sentence
(``render.note``) instead of an empty chart.

Figures are made without pyplot (``matplotlib.figure.Figure``), so a notebook shows exactly what it displays and a
long run keeps no figure alive.
"""

from __future__ import annotations

import functools
import io
import textwrap

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatter, MaxNLocator, PercentFormatter

from evtools.core import fmt
from evtools.present.render import Html, note

COLORS = {
    "drift": "#8c564b",
    "duplicates": "#d62728",
    "corrections": "#ff7f0e",
    "late": "#1f77b4",
    "residual": "#7f7f7f",
    "timezone": "#9467bd",
    "match": "#2ca02c",
    "before": "#7f7f7f",
    "sorted": "#9ecae1",
    "by_date": "#1f77b4",
}
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.formatter.useoffset": False,
}
WIDTH = 10.0  # inches: shown 1,000 px wide, inside a 1280 px window
DPI = 150
thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")


class Chart:
    """A finished figure: Jupyter shows it as a PNG of ``WIDTH`` inches at 100 px per inch (drawn at ``DPI`` for
    sharp text); ``savefig`` writes it."""

    def __init__(self, figure: Figure):
        self.figure = figure

    def savefig(self, *args, **kwargs) -> None:
        with mpl.rc_context(STYLE):
            self.figure.savefig(*args, **kwargs)

    def _repr_png_(self) -> tuple[bytes, dict]:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DPI)
        width, height = self.figure.get_size_inches()
        return buffer.getvalue(), {"width": round(100 * width), "height": round(100 * height)}


def styled(make):
    """Draw inside the one style (figures use the constrained layout, which keeps every label inside them)."""

    @functools.wraps(make)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(STYLE):
            fig = make(*args, **kwargs)
            return Chart(fig) if isinstance(fig, Figure) else fig

    return wrapper


def counts(axis) -> None:
    """Integer ticks with thousands separators on a count axis."""
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(thousands)


class _LogSeconds(LogFormatter):
    """A log axis of durations labelled as durations (250 ms, 1.5 s), on the ticks matplotlib would label."""

    def _num_to_string(self, x, vmin, vmax) -> str:
        return fmt.seconds(x)


def log_seconds(axis) -> None:
    """A duration axis on a log scale: decades and, where the range is short, the ticks between them, labelled with
    units, never as powers of ten."""
    axis.set_major_formatter(_LogSeconds(labelOnlyBase=False))
    axis.set_minor_formatter(_LogSeconds(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def dates(ax) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


@styled
def heatmap(
    frame: pd.DataFrame,
    columns: list[str],
    what: str,
    unit: str = "events",
    top: int = 30,
    absolute: bool = False,
) -> Chart | Html:
    """company x date heatmap of the sum of ``columns`` (their absolute values with ``absolute``) for the ``top``
    companies with the largest total; the title names the companies that carry most of it."""
    value = "_value"
    summed = frame[columns].abs().sum(axis=1) if absolute else frame[columns].sum(axis=1)
    frame = frame[["company_id", "date"]].assign(_value=summed)
    totals = frame.groupby("company_id")[value].sum().nlargest(top)
    if frame.empty or totals.sum() == 0:
        return note(f"No {what}: nothing to draw.")
    part = frame[frame["company_id"].isin(totals.index)]
    grid = part.pivot_table(index="company_id", columns="date", values=value, aggfunc="sum", fill_value=0)
    grid = grid.loc[totals.index]
    lead = totals.head(3)
    share = lead.sum() / frame[value].sum()
    fig = Figure(figsize=(WIDTH, 0.22 * len(grid) + 1.8), layout="constrained")
    ax = fig.add_subplot()
    days = pd.to_datetime(pd.Index(grid.columns))
    x0, x1 = mdates.date2num(days.min()), mdates.date2num(days.max() + pd.Timedelta(days=1))
    image = ax.imshow(
        grid.to_numpy(), aspect="auto", cmap="Reds", interpolation="nearest", extent=(x0, x1, len(grid), 0)
    )
    ax.set_yticks(np.arange(len(grid)) + 0.5, [str(c) for c in grid.index], fontsize=7)
    ax.xaxis_date()
    dates(ax)
    ax.grid(False)
    ax.set_xlabel("date")
    ax.set_ylabel("company_id")
    ax.set_title(
        f"{what.capitalize()}: companies {', '.join(str(c) for c in lead.index)} carry {fmt.share(share, 0)} of them"
    )
    bar = fig.colorbar(image, ax=ax, label=f"{unit} per company and date", pad=0.01)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


@styled
def coverage_curve(
    lag: pd.DataFrame, recommended: int | None, configured: int, target: float
) -> Chart | Html:
    """coverage(k) with the recommended and configured lookbacks marked; rows re-read per run on a second axis."""
    lag = lag[lag["k"] >= 0]
    if lag.empty:
        return note("No arrival lags to draw: fact_events has no rows.")
    cover = lag.set_index("k")["coverage"]
    at = float(cover[cover.index <= configured].max()) if (cover.index <= configured).any() else 0.0
    fig = Figure(figsize=(WIDTH, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.step(lag["k"], 100 * lag["coverage"], where="post", color=COLORS["late"], label="events covered")
    ax.set_xlabel("lookback (days re-read)")
    ax.set_ylabel("events covered (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(max(0.0, 100 * float(lag["coverage"].min()) - 2), 100.5)
    ax.axvline(configured, color=COLORS["duplicates"], linestyle=":", label=f"current job: {configured} days")
    title = f"A {configured}-day lookback covers {fmt.share(at)} of events"
    if recommended is not None:
        ax.axvline(
            recommended,
            color=COLORS["match"],
            linestyle="--",
            label=f"covers {fmt.share(target)}: {recommended} days",
        )
        title += f"; {fmt.share(target)} takes {recommended} days"
    cost = ax.twinx()
    cost.plot(lag["k"], lag["rows_reread_per_run"], color="#7f7f7f", alpha=0.6, label="rows re-read per run")
    cost.set_ylabel("rows re-read per run")
    counts(cost.yaxis)
    cost.grid(False)
    cost.spines["right"].set_visible(True)
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = cost.get_legend_handles_labels()
    ax.legend(lines + more, labels + more_labels, loc="lower right")
    ax.set_title(title)
    return fig


@styled
def causes_bar(r) -> Chart | Html:
    """|delta| explained by each part, summed over company-days (``r``: a typed Reconciliation)."""
    parts = [p for p in r.parts if p.abs]
    if not parts:
        return note(
            f"No company-day differs between the dashboard and the API ({fmt.count(r.keys_compared)} compared): "
            "nothing to draw."
        )
    parts.sort(key=lambda p: -p.abs)
    fig = Figure(figsize=(WIDTH, 0.45 * len(parts) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    names = [p.name for p in parts]
    values = [p.abs for p in parts]
    ax.barh(names, values, color=[COLORS[n] for n in names])
    top = max(values)
    for i, p in enumerate(parts):
        inside = p.abs > 0.6 * top
        ax.text(
            p.abs - 0.01 * top if inside else p.abs + 0.01 * top,
            i,
            f"{fmt.count(p.abs)} ({fmt.share(p.share)})",
            va="center",
            ha="right" if inside else "left",
            color="white" if inside else "#1f2328",
            fontsize=9,
        )
    ax.set_xlim(0, top * 1.05)
    ax.invert_yaxis()
    counts(ax.xaxis)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("events misstated (sum over company-days of |part|)")
    ax.set_title(
        f"{parts[0].name.capitalize()} is the largest part of the difference ({fmt.share(parts[0].share)})"
    )
    return fig


@styled
def waterfall(w: dict) -> Chart:
    """One key: from the API value, each part, to the dashboard value; every label inside the frame."""
    parts = [(c, int(w[c] or 0)) for c in ("residual", "late", "corrections", "duplicates", "drift")]
    fig = Figure(figsize=(WIDTH, 3.8), layout="constrained")
    ax = fig.add_subplot()
    api, board = int(w["api_events"] or 0), int(w["dashboard_events"] or 0)
    ax.bar(0, api, color="#444444")
    level, levels = api, [api]
    for i, (name, value) in enumerate(parts, start=1):
        ax.bar(i, abs(value) or 0.001, bottom=min(level, level + value), color=COLORS[name])
        level += value
        levels.append(level)
    ax.bar(len(parts) + 1, board, color="#444444")
    high, low = max(levels + [board]), min(levels + [board])
    pad = max(1.0, 0.12 * (high - min(low, api)))
    bottom = max(0.0, low - 3 * pad)
    ax.set_ylim(bottom, high + 1.5 * pad)
    for i, (_, value) in enumerate(parts, start=1):
        if value:
            ax.text(
                i,
                max(levels[i - 1], levels[i]) + 0.2 * pad,
                fmt.signed(value),
                ha="center",
                va="bottom",
                fontsize=9,
            )
    for x, v in ((0, api), (len(parts) + 1, board)):
        ax.text(x, v + 0.2 * pad, fmt.count(v), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(parts) + 2), ["API"] + [p[0] for p in parts] + ["dashboard"])
    ax.set_ylabel("events")
    counts(ax.yaxis)
    ax.grid(axis="x", visible=False)
    main = max(parts, key=lambda p: abs(p[1]))
    ax.set_title(
        f"Company {w['company_id']} on {fmt.date(w['date'])}: {main[0]} explains {fmt.signed(main[1])} of the "
        f"{fmt.signed(board - api)} difference"
    )
    return fig


@styled
def replayed_loads(loads: pd.DataFrame, top: int = 15) -> Chart | Html:
    if loads.empty:
        return note("No replayed load: no batch repeats most of an earlier load's rows.")
    part = loads.head(top)
    fig = Figure(figsize=(WIDTH, 0.28 * len(part) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    ax.barh([str(x) for x in part["load_id"]], part["events_added"], color=COLORS["duplicates"])
    ax.invert_yaxis()
    counts(ax.xaxis)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("events the replay adds")
    ax.set_ylabel("load_id")
    ax.set_title(
        f"{fmt.count(len(loads))} replayed loads add {fmt.count(loads['events_added'].sum())} events; "
        f"the largest adds {fmt.count(loads['events_added'].max())}"
    )
    return fig


LAYOUT_NAMES = {"before": "as ingested", "sorted": "one sorted file", "by_date": "partitioned by date"}
QUERY_NAMES = {
    "full": "full job",
    "window": "incremental window",
    "company_day": "one company, one day",
    "company_month": "one company, 30 days",
}


@styled
def before_after(frame: pd.DataFrame, metric: str) -> Chart:
    """Grouped bars, log scale: bytes read (MB) or median latency (ms) per query (x) and layout (bars)."""
    unit, scale, label = (
        ("MB", 1e6, "MB read (log scale)")
        if metric == "bytes_read"
        else ("ms", 1e-3, "median latency, ms (log scale)")
    )
    grid = frame.pivot_table(index="query", columns="layout", values=metric, aggfunc="first") / scale
    grid = grid.reindex([q for q in QUERY_NAMES if q in grid.index])
    layouts = [lay for lay in LAYOUT_NAMES if lay in grid.columns]
    fig = Figure(figsize=(WIDTH, 3.8), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(layouts))
    x = np.arange(len(grid.index))
    for i, lay in enumerate(layouts):
        ax.bar(x + i * width, grid[lay].clip(lower=1e-6), width, label=LAYOUT_NAMES[lay], color=COLORS[lay])
    ax.set_xticks(x + width * (len(layouts) - 1) / 2, [QUERY_NAMES[q] for q in grid.index])
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.3g}"))
    ax.set_ylabel(label)
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper right", ncols=len(layouts))
    ax.set_ylim(top=ax.get_ylim()[1] * 4)  # room for the legend inside the frame
    if "window" in grid.index and "by_date" in layouts and "full" in grid.index:
        share = grid.loc["window", "by_date"] / grid.loc["full", "before"]
        what = "reads" if metric == "bytes_read" else "takes"
        ax.set_title(
            f"Partitioned by date, the incremental window {what} {fmt.share(share)} of what the full job "
            f"{what} today ({unit})"
        )
    else:
        ax.set_title(f"{'Bytes read' if metric == 'bytes_read' else 'Latency'} per query and layout ({unit})")
    return fig


@styled
def plan_tree(ops: pd.DataFrame, totals: dict) -> Chart | Html:
    """The plan as an indented list of operators, each with a bar for its share of operator time."""
    if ops.empty:
        return note("The profiler reported no operators.")
    fig = Figure(figsize=(WIDTH, 0.42 * len(ops) + 1.3), layout="constrained")
    ax = fig.add_subplot()
    for i, op in enumerate(ops.itertuples()):
        ax.barh(
            i, 100 * op.share_of_time, color="#d62728" if op.share_of_time > 0.5 else "#1f77b4", alpha=0.8
        )
        label = f"{'   ' * op.depth}{op.operator}  {100 * op.share_of_time:.0f}%  {op.rows_out:,} rows"
        if op.is_scan and op.row_groups_total:
            label += f"  (row groups {int(op.row_groups_scanned)}/{int(op.row_groups_total)})"
        if op.filters:
            label += f"  filter: {op.filters[:60]}"
        ax.text(1, i, label, va="center", fontsize=8, family="monospace")
    ax.set_ylim(len(ops) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_yticks([])
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("share of operator time")
    top = ops.loc[ops["share_of_time"].idxmax()]
    ax.set_title(
        f"{top['operator']} takes {fmt.share(top['share_of_time'], 0)} of the time: {fmt.seconds(totals.get('seconds'))}, "
        f"{fmt.size(totals.get('bytes_read'))} read, row groups {fmt.count(totals.get('row_groups_scanned'))} of "
        f"{fmt.count(totals.get('row_groups_total'))}"
    )
    return fig


@styled
def replay(days: pd.DataFrame) -> Chart | Html:
    """What the fixed-window job misses per day against the exact refresh, and run times against a full rebuild."""
    if days.empty:
        return note("No day was replayed.")
    fig = Figure(figsize=(WIDTH, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    when = pd.to_datetime(days["until"])
    top.bar(
        when,
        days["lookback_missing_events"],
        width=0.8,
        color=COLORS["late"],
        label="fixed-window job: events missing",
    )
    top.plot(
        when,
        days["touched_differing_keys"],
        color=COLORS["match"],
        marker="o",
        markersize=3,
        label="exact refresh: company-days differing from a full recomputation",
    )
    top.set_ylabel("events / company-days")
    counts(top.yaxis)
    top.legend(loc="upper left")
    differing = int(days["touched_differing_keys"].sum())
    missed = int(days["lookback_missing_events"].iloc[-1])
    top.set_title(
        f"The fixed-window job ends {fmt.count(missed)} events short after {len(days)} days; the exact refresh "
        + ("never differs" if differing == 0 else f"differs on {fmt.count(differing)} company-days")
    )
    for col, label in (
        ("touched_seconds", "exact incremental refresh"),
        ("lookback_seconds", "fixed-window job"),
        ("full_seconds", "full rebuild"),
    ):
        bottom.plot(when, days[col], marker=".", label=label)
    bottom.set_yscale("log")
    log_seconds(bottom.yaxis)
    bottom.set_ylabel("seconds per run (log scale)")
    bottom.set_xlabel("replayed run (ingestion up to midnight of the date)")
    bottom.legend(loc="upper left", ncols=3)
    dates(bottom)
    return fig


@styled
def run_history(result, jobs: list[str]) -> Chart | Html:
    """One panel per job of a ``RunsResult``, titled with its finding: duration over time with failures, timeouts,
    no-op runs, change points and slow runs on the same axis (volume behind it); duration against volume with each
    segment's line; the residuals of one line over all runs."""
    if not jobs:
        return note("No runs recorded yet: nothing to draw.")
    said = {}
    for f in result.findings():
        said.setdefault(f["job"], f["title"])
    verdicts = result.jobs.set_index("job")
    fig = Figure(figsize=(WIDTH, 3.6 * len(jobs)), layout="constrained")
    for panel, job in zip(fig.subfigures(len(jobs), 1, squeeze=False)[:, 0], jobs, strict=True):
        part = result.runs[result.runs["job"] == job]
        verdict = verdicts.loc[job]
        title = said.get(job) or f"{job}: {verdict['verdict']}" + (", N+1" if verdict["n_plus_one"] else "")
        panel.suptitle(textwrap.fill(title, 110), x=0.01, ha="left", fontsize=10, fontweight="bold")
        axes = panel.subplots(1, 3, gridspec_kw={"width_ratios": [2.2, 1.2, 1.2]})
        _run_timeline(axes[0], part, verdict)
        _run_fit(axes[1], part, verdict)
        _run_residuals(axes[2], part)
    return fig


def _run_timeline(ax, part: pd.DataFrame, verdict) -> None:
    fitted = part[part["fitted"]]
    ax.plot(fitted["started_at"], fitted["seconds"], ".", color="#1f77b4", label="run")
    ax.plot(fitted["started_at"], fitted["segment_expected_seconds"], "-", color="#2ca02c", lw=1, label="its line")
    for status, marker in (("failed", "x"), ("timeout", "^")):
        bad = part[part["status"] == status]
        if len(bad):
            ax.plot(bad["started_at"], bad["seconds"], marker, color="#d62728", ls="none", label=status)
    noop = part[part["noop"]]
    if len(noop):
        ax.plot(noop["started_at"], noop["seconds"], "o", mfc="none", color="#7f7f7f", ls="none", label="no-op")
    slow = part[part["flag"] == "slow run"]
    if len(slow):
        ax.plot(slow["started_at"], slow["seconds"], "o", ms=11, mfc="none", color="#ff7f0e", ls="none",
                label="slow run")  # fmt: skip
    for when in part.loc[part["flag"] == "change point", "started_at"]:
        ax.axvline(when, color="#d62728", ls="--", lw=1)
    seconds = part["seconds"].dropna()
    if len(seconds) and (seconds > 0).any() and seconds.max() > 100 * seconds[seconds > 0].min():
        ax.set_yscale("log")
        log_seconds(ax.yaxis)
    ax.set_ylabel("seconds per run")
    ax.set_title("duration by start (UTC)", fontsize=9, fontweight="normal")
    ax.legend(loc="upper left", ncols=2)
    dates(ax)
    unit = verdict["volume_unit"]
    if unit:
        volume = ax.twinx()
        volume.plot(part["started_at"], part["volume"], color="#7f7f7f", alpha=0.35, lw=1)
        volume.set_ylabel(f"{unit} per run", color="#7f7f7f")
        volume.grid(False)
        volume.spines["right"].set_visible(True)
        _volume_ticks(volume.yaxis)


def _volume_ticks(axis) -> None:
    """Volume tick labels: 12,500 or 3.2M, never an offset like 1e6."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:,.1f}M" if abs(v) >= 1e6 else f"{v:,.0f}"))


def _run_fit(ax, part: pd.DataFrame, verdict) -> None:
    fitted = part[part["fitted"]]
    if not verdict["volume_unit"] or not len(fitted):
        ax.text(0.5, 0.5, "no volume in the log:\nnothing to fit against", ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        return
    for segment, seg in fitted.groupby("segment"):
        order = seg.sort_values("volume")
        ax.plot(order["volume"], order["seconds"], ".", alpha=0.6, label=f"segment {segment + 1}")
        ax.plot(order["volume"], order["segment_expected_seconds"], "-", color="black", lw=0.8)
    ax.set_xlabel(f"{verdict['volume_unit']} per run")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    _volume_ticks(ax.xaxis)
    ax.set_ylabel("seconds per run")
    ax.set_title("duration against volume", fontsize=9, fontweight="normal")
    if fitted["segment"].nunique() > 1:
        ax.legend()


def _run_residuals(ax, part: pd.DataFrame) -> None:
    fitted = part[part["fitted"]]
    ax.axhline(0, color="#7f7f7f", lw=0.8)
    ax.plot(fitted["run_no"], fitted["residual"], ".", color="#9467bd")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.xaxis.set_major_formatter(thousands)
    ax.set_xlabel("run number")
    ax.set_ylabel("seconds off one line")
    ax.set_title("residuals of one line", fontsize=9, fontweight="normal")


@styled
def refresh_runs(runs: pd.DataFrame) -> Chart | Html:
    """Rows read and seconds per refresh run, by when it ran."""
    ok = runs[runs["status"] == "ok"] if len(runs) else runs
    if ok.empty:
        return note("No refresh run has completed yet: nothing to draw.")
    seconds = (ok["ended_at"] - ok["started_at"]).dt.total_seconds()
    fig = Figure(figsize=(WIDTH, 3.4), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(ok))
    ax.bar(x, ok["rows_read"], color="#1f77b4", label="rows read", width=0.6)
    ax.set_xticks(
        x, [f"{t:%m-%d %H:%M}\n{m}" for t, m in zip(ok["started_at"], ok["mode"], strict=True)], fontsize=8
    )
    ax.set_xlim(-0.7, len(ok) - 0.3)
    ax.set_xlabel("refresh run (start, UTC; mode)")
    ax.set_ylabel("rows read")
    counts(ax.yaxis)
    ax.grid(axis="x", visible=False)
    right = ax.twinx()
    right.plot(x, seconds, color="#d62728", marker="o", label="seconds")
    right.set_ylabel("seconds per run")
    right.set_ylim(0, max(float(seconds.max()) * 1.3, 0.01))
    right.grid(False)
    right.spines["right"].set_visible(True)
    last = ok.iloc[-1]
    ax.set_title(
        f"{fmt.count(len(ok))} refresh run{'' if len(ok) == 1 else 's'}; the last ({last['mode']}) read {fmt.count(last['rows_read'])} rows "
        f"in {fmt.seconds(seconds.iloc[-1])}"
    )
    return fig
