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
# # Where the daily job spends its time

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
window_days: int = 2  # the incremental window to compare with, in dates
sql_file: str = ""  # a file with another query to profile; empty: the job's aggregation
report_dir: str = ""  # where the report is written (set by evtools report); full tables go there as csv

# %%
from pathlib import Path

from IPython.display import display

from evtools.analyses import profiling
from evtools.app import reports
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from evtools.present import plots, render, results, tables

cfg = load_config(config)
con = open_sources(cfg, names=("fact_events",))
sql, params = (Path(sql_file).read_text(), {}) if sql_file else profiling.job_query(con)
full = profiling.profile(con, sql, params)
window = profiling.profile(con, *profiling.job_query(con, window_days))
reports.record("sources", results.sources(cfg))
found = reports.record(
    "profile", {"full": full.totals, "window": window.totals, "flags": full.flags, "window_days": window_days}
)
display(render.show(found))

# %% [markdown]
# ## How this is measured
#
# The job's query, profiled by DuckDB on the data as it lies: time per operator, rows in and out, estimated vs
# actual cardinality, the filters pushed into the scan, and the files and row groups it reads.

# %%
display(plots.plan_tree(full.operators, full.totals))
display(render.table(full.operators, tables.OPERATORS, "operators", report_dir))

# %% [markdown]
# ## The incremental window

# %%
display(plots.plan_tree(window.operators, window.totals))
display(render.table(window.operators, tables.OPERATORS, "window_operators", report_dir))

# %%
for warning in profiling.pruning_warnings(sql):
    display(render.note(f"Warning: {warning}"))
