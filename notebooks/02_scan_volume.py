# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Scan volume before and after partitioning by date and clustering by company
#
# fact_events is re-laid twice (one file sorted by date and company; one folder per date, each sorted by company),
# then the same queries run on every layout. The ideal is what the rows a query needs alone would cost.

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
window_days: int = 2  # the incremental window, in dates
repeats: int = 3  # timed runs per query and layout (the median is shown)
layout_dir: str = ""  # where to keep the re-laid copies; empty: a temporary folder, removed after
table: str = "fact_events"  # your warehouse table, for the DDL

# %%
from pathlib import Path

from IPython.display import Markdown, display

from evtools import ddl, layout, narrative, plots, reports
from evtools.config import load_config
from evtools.sources import open_sources

cfg = load_config(config)
con = open_sources(cfg, names=("fact_events",))
result = layout.relay_and_measure(con, cfg, window_days, repeats, Path(layout_dir) if layout_dir else None)
display(Markdown(narrative.layout(result.summary)))

# %%
fig = plots.before_after(result.measurements, "bytes_read", "Bytes read per query and layout (log scale)")
fig = plots.before_after(result.measurements, "median_seconds", "Median latency per query and layout (log scale)")

# %%
display(result.measurements[["layout", "query", "median_seconds", "bytes_read", "bytes_read_vs_before", "ideal_bytes",
                             "bytes_vs_ideal", "row_groups_scanned", "row_groups_total", "files_read"]])

# %% [markdown]
# ## The same layout in your warehouse

# %%
statements = ddl.ddl(ddl.LayoutSpec.from_config(cfg, table, *layout.date_range(con)))
display(Markdown("\n\n".join(f"**{name}**\n```sql\n{text}\n```" for name, text in statements.items())))
reports.record("layout", result.summary)
