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
#
# The job's query, profiled by DuckDB on the data as it lies: time per operator, rows in and out, estimated vs
# actual cardinality, the filters pushed into the scan, and the files and row groups it reads.

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
window_days: int = 2  # the incremental window to compare with, in dates
sql_file: str = ""  # a file with another query to profile; empty: the job's aggregation

# %%
from pathlib import Path

from IPython.display import Markdown, display

from evtools import narrative, plots, profiling, reports
from evtools.config import load_config
from evtools.sources import open_sources

cfg = load_config(config)
con = open_sources(cfg, names=("fact_events",))
sql, params = (Path(sql_file).read_text(), {}) if sql_file else profiling.job_query(con)
full = profiling.profile(con, sql, params)
window = profiling.profile(con, *profiling.job_query(con, window_days))
display(Markdown(narrative.profile(full, window)))

# %%
fig = plots.plan_tree(full.operators, full.totals)
display(full.operators[["depth", "operator", "share_of_time", "rows_in", "rows_out", "estimated_rows", "filters",
                        "files_read", "row_groups_scanned", "row_groups_total"]])

# %% [markdown]
# ## The incremental window

# %%
fig = plots.plan_tree(window.operators, window.totals)

# %%
for warning in profiling.pruning_warnings(sql):
    display(Markdown(f"**Warning:** {warning}"))
reports.record("profile", {"full": full.totals, "window": window.totals, "flags": full.flags})
