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
# # What re-laying the data saves

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
window_days: int = 2  # the incremental window, in dates
repeats: int = 3  # timed runs per query and layout (the median is shown)
layout_dir: str = ""  # where to keep the re-laid copies; empty: a temporary folder, removed after
table: str = "fact_events"  # your warehouse table, for the DDL
report_dir: str = ""  # where the report is written (set by evtools report); full tables go there as csv

# %%
from pathlib import Path

from IPython.display import display

from evtools.analyses import ddl, layout
from evtools.app import reports
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from evtools.present import plots, render, tables

cfg = load_config(config)
con = open_sources(cfg, names=("fact_events",))
result = layout.relay_and_measure(con, cfg, window_days, repeats, Path(layout_dir) if layout_dir else None)
statements = ddl.ddl(ddl.LayoutSpec.from_config(cfg, table, *layout.date_range(con)))
display(render.show(reports.record("layout", result.summary | {"ddl": statements})))

# %% [markdown]
# ## How this is measured
#
# fact_events is re-laid twice (one file sorted by date and company; one folder per date, each sorted by company),
# then the same queries run on every layout. The ideal is what the rows a query needs alone would cost.

# %%
display(plots.before_after(result.measurements, "bytes_read"))
display(plots.before_after(result.measurements, "median_seconds"))
display(render.table(result.measurements, tables.MEASUREMENTS, "scan_volume", report_dir))

# %% [markdown]
# ## The same layout in your warehouse

# %%
display(render.code(statements))
