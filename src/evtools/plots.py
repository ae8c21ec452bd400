"""Figures for the notebooks and reports. Each takes a result object's frames and returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

COLORS = {
    "drift": "#8c564b",
    "duplicates": "#d62728",
    "corrections": "#ff7f0e",
    "late": "#1f77b4",
    "residual": "#7f7f7f",
    "timezone": "#9467bd",
    "match": "#2ca02c",
}


def heatmap(frame: pd.DataFrame, value: str, title: str, top: int = 30) -> plt.Figure:
    """company x date heatmap of ``value`` for the ``top`` companies with the largest total."""
    totals = frame.groupby("company_id")[value].sum().nlargest(top)
    part = frame[frame["company_id"].isin(totals.index)]
    grid = part.pivot_table(index="company_id", columns="date", values=value, aggfunc="sum", fill_value=0)
    grid = grid.loc[totals.index]
    fig, ax = plt.subplots(figsize=(11, 0.25 * len(grid) + 1.8))
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Reds", interpolation="nearest")
    ax.set_yticks(range(len(grid)), [str(c) for c in grid.index], fontsize=7)
    step = max(1, len(grid.columns) // 12)
    ax.set_xticks(
        range(0, len(grid.columns), step),
        [pd.Timestamp(d).strftime("%m-%d") for d in grid.columns[::step]],
        fontsize=7,
    )
    ax.set_xlabel("date")
    ax.set_ylabel("company_id")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label=value)
    fig.tight_layout()
    return fig


def coverage_curve(lag: pd.DataFrame, recommended: int | None, configured: int) -> plt.Figure:
    """coverage(k) with the recommended and configured lookbacks marked; rows re-read per run on a second axis."""
    lag = lag[lag["k"] >= 0]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.step(
        lag["k"],
        100 * lag["coverage"],
        where="post",
        color="#1f77b4",
        label="coverage(k): events with lag <= k",
    )
    ax.set_xlabel("lookback k (days)")
    ax.set_ylabel("share of events covered (%)")
    low = max(0.0, 100 * float(lag["coverage"].min()) - 1)
    ax.set_ylim(low, 100.2)
    if recommended is not None:
        ax.axvline(recommended, color="#2ca02c", linestyle="--", label=f"recommended: {recommended} days")
    ax.axvline(configured, color="#d62728", linestyle=":", label=f"current job: {configured} days")
    cost = ax.twinx()
    cost.plot(lag["k"], lag["rows_reread_per_run"], color="#7f7f7f", alpha=0.6, label="rows re-read per run")
    cost.set_ylabel("rows re-read per run")
    lines = ax.get_legend_handles_labels()
    more = cost.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="lower right", fontsize=8)
    ax.set_title("How far back must an incremental job look?")
    fig.tight_layout()
    return fig


def causes_bar(summary: dict) -> plt.Figure:
    """|delta| explained by each component, summed over keys."""
    parts = summary["abs_totals"]
    names = list(parts)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.barh(names, [parts[n] for n in names], color=[COLORS[n] for n in names])
    for i, n in enumerate(names):
        ax.text(
            parts[n],
            i,
            f" {parts[n]:,} ({100 * summary['share_of_abs_delta'][n]:.1f}%)",
            va="center",
            fontsize=8,
        )
    ax.invert_yaxis()
    ax.set_xlabel("sum over keys of |component| (events)")
    ax.set_title("What the dashboard-vs-API differences are made of")
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig


def waterfall(w: dict) -> plt.Figure:
    """One key: from the API value, each component, to the dashboard value."""
    steps = [("API", w["api_events"])] + [
        (c, w[c]) for c in ("residual", "late", "corrections", "duplicates", "drift")
    ]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    level = 0
    for i, (name, value) in enumerate(steps):
        if i == 0:
            ax.bar(i, value, color="#444444")
            level = value
            continue
        # walking from A up to D: D = A + residual + late + corrections + duplicates + drift, read right to left
        bottom = level if value >= 0 else level + value
        ax.bar(i, abs(value), bottom=bottom, color=COLORS[name])
        ax.text(i, level + value, f"{value:+,}", ha="center", va="bottom", fontsize=8)
        level += value
    ax.bar(len(steps), w["dashboard_events"], color="#444444")
    ax.set_xticks(range(len(steps) + 1), [s[0] for s in steps] + ["dashboard"])
    ax.set_ylabel("events")
    lo = min(w["api_events"], w["dashboard_events"], level) * 0.9
    ax.set_ylim(bottom=max(0, lo))
    ax.set_title(
        f"company {w['company_id']} on {w['date']}: dashboard {w['dashboard_events']:,} vs API {w['api_events']:,}"
    )
    fig.tight_layout()
    return fig


def replayed_loads(loads: pd.DataFrame, top: int = 15) -> plt.Figure:
    part = loads.head(top)
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(part) + 1.5))
    ax.barh([str(x) for x in part["load_id"]], part["events_added"], color=COLORS["duplicates"])
    ax.invert_yaxis()
    ax.set_xlabel("events the replay adds")
    ax.set_ylabel("load_id")
    ax.set_title("Replayed loads")
    fig.tight_layout()
    return fig


def before_after(frame: pd.DataFrame, metric: str, title: str) -> plt.Figure:
    """Grouped bars, log scale: ``metric`` per query (x) and layout (bars)."""
    grid = frame.pivot_table(index="query", columns="layout", values=metric, aggfunc="first")
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / max(1, len(grid.columns))
    x = np.arange(len(grid.index))
    for i, layout in enumerate(grid.columns):
        ax.bar(x + i * width, grid[layout].clip(lower=1e-9), width, label=layout)
    ax.set_xticks(x + width * (len(grid.columns) - 1) / 2, grid.index, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plan_tree(ops: pd.DataFrame, totals: dict) -> plt.Figure:
    """The plan as an indented list of operators, each with a bar for its share of operator time."""
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(ops) + 1.2))
    for i, op in enumerate(ops.itertuples()):
        ax.barh(
            i, op.share_of_time, left=0, color="#d62728" if op.share_of_time > 0.5 else "#1f77b4", alpha=0.8
        )
        label = f"{'   ' * op.depth}{op.operator}  {100 * op.share_of_time:.0f}%  {op.rows_out:,} rows"
        if op.is_scan and op.row_groups_total:
            label += f"  (row groups {int(op.row_groups_scanned)}/{int(op.row_groups_total)})"
        if op.filters:
            label += f"  filter: {op.filters[:60]}"
        ax.text(0.01, i, label, va="center", fontsize=8, family="monospace")
    ax.set_ylim(len(ops) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("share of operator time")
    gb = (totals.get("bytes_read") or 0) / 1e6
    ax.set_title(
        f"Query plan: {totals.get('seconds') or 0:.3f} s, {gb:,.1f} MB read, "
        f"row groups {totals.get('row_groups_scanned')}/{totals.get('row_groups_total')}"
    )
    fig.tight_layout()
    return fig


def replay(days: pd.DataFrame) -> plt.Figure:
    """What the fixed-window job misses per day against the exact refresh, and run times against a full rebuild."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    top.bar(
        days["until"],
        days["lookback_missing_events"],
        color=COLORS["late"],
        label="lookback job: events missing",
    )
    top.plot(
        days["until"],
        days["touched_differing_keys"],
        color=COLORS["match"],
        marker="o",
        label="exact refresh: keys differing from a full recomputation",
    )
    top.set_ylabel("events / keys")
    top.legend(fontsize=8)
    top.set_title("What each strategy gets wrong, day by day")
    for col, label in (
        ("touched_seconds", "exact incremental refresh"),
        ("lookback_seconds", "fixed-window job"),
        ("full_seconds", "full rebuild"),
    ):
        bottom.plot(days["until"], days[col], marker=".", label=label)
    bottom.set_yscale("log")
    bottom.set_ylabel("seconds per run")
    bottom.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def run_history(result, jobs: list[str]) -> plt.Figure:
    """One row per job of a ``RunsResult``: duration over time with failures, timeouts, change points and slow runs
    on the same axis (volume behind it); duration against volume with each segment's line; the residuals."""
    runs = result.runs
    fig, axes = plt.subplots(len(jobs), 3, figsize=(14, 3.3 * len(jobs)), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2, 1.2, 1.2]})  # fmt: skip
    for row, job in zip(axes, jobs, strict=True):
        part = runs[runs["job"] == job]
        verdict = result.jobs.set_index("job").loc[job]
        _run_timeline(row[0], part, verdict)
        _run_fit(row[1], part, verdict)
        _run_residuals(row[2], part)
    fig.tight_layout()
    return fig


def _counts(axis) -> None:
    """Tick labels as counts: 12,500 or 3.2M, never an offset like 1e6."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:,.1f}M" if abs(v) >= 1e6 else f"{v:,.0f}"))


def _run_timeline(ax, part: pd.DataFrame, verdict) -> None:
    fitted = part[part["fitted"]]
    ax.plot(fitted["started_at"], fitted["seconds"], ".", color="#1f77b4", label="run")
    ax.plot(fitted["started_at"], fitted["segment_expected_seconds"], "-", color="#2ca02c", lw=1, label="its line")
    for status, marker, color in (("failed", "x", "#d62728"), ("timeout", "^", "#d62728")):
        bad = part[part["status"] == status]
        if len(bad):
            ax.plot(bad["started_at"], bad["seconds"], marker, color=color, ls="none", label=status)
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
    if len(seconds) and seconds.max() > 100 * max(seconds[seconds > 0].min(), 1e-9):
        ax.set_yscale("log")
    ax.set_ylabel("seconds per run")
    title = f"{part['job'].iloc[0]}: {verdict['verdict']}" + (", N+1" if verdict["n_plus_one"] else "")
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=7, loc="upper left")
    unit = verdict["volume_unit"]
    if unit:
        volume = ax.twinx()
        volume.plot(part["started_at"], part["volume"], color="#7f7f7f", alpha=0.35, lw=1)
        volume.set_ylabel(f"{unit} per run", color="#7f7f7f")
        _counts(volume.yaxis)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)


def _run_fit(ax, part: pd.DataFrame, verdict) -> None:
    fitted = part[part["fitted"]]
    if not verdict["volume_unit"] or not len(fitted):
        ax.text(0.5, 0.5, "no volume in the log", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    for segment, seg in fitted.groupby("segment"):
        order = seg.sort_values("volume")
        ax.plot(order["volume"], order["seconds"], ".", alpha=0.6, label=f"segment {segment + 1}")
        ax.plot(order["volume"], order["segment_expected_seconds"], "-", color="black", lw=0.8)
    ax.set_xlabel(f"{verdict['volume_unit']} per run")
    _counts(ax.xaxis)
    ax.set_ylabel("seconds per run")
    ax.set_title("duration against volume, with each segment's line", fontsize=9, loc="left")
    if fitted["segment"].nunique() > 1:
        ax.legend(fontsize=7)


def _run_residuals(ax, part: pd.DataFrame) -> None:
    fitted = part[part["fitted"]]
    ax.axhline(0, color="#7f7f7f", lw=0.8)
    ax.plot(fitted["run_no"], fitted["residual"], ".", color="#9467bd")
    ax.set_xlabel("run number")
    ax.set_ylabel("seconds - one line's expected")
    ax.set_title("residuals of one line over all runs", fontsize=9, loc="left")


def refresh_runs(runs: pd.DataFrame) -> plt.Figure:
    """Rows read and seconds per refresh run."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ok = runs[runs["status"] == "ok"]
    ax.bar(ok["run_id"], ok["rows_read"], color="#1f77b4", label="rows read")
    ax.set_xlabel("refresh run")
    ax.set_ylabel("rows read")
    seconds = ax.twinx()
    seconds.plot(
        ok["run_id"],
        (ok["ended_at"] - ok["started_at"]).dt.total_seconds(),
        color="#d62728",
        marker="o",
        label="seconds",
    )
    seconds.set_ylabel("seconds")
    ax.set_title("Refresh runs: what each read and how long it took")
    fig.tight_layout()
    return fig
