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
# # Run history: slower because of its data, or because something changed?

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
run_log: str = ""  # the run log: a file, glob or folder, relative to the config (empty: [runs] log, else the evtools log)
log_format: str = ""  # auto, generic, dbt, airflow or evtools (empty: [runs] format of the config)
min_ratio: float = 1.5  # the smallest change in cost per unit of volume reported as a change point
report_dir: str = ""  # where the report is written (set by evtools report); full tables go there as csv

# %%
from IPython.display import display

from evtools.analyses import runs
from evtools.app import reports
from evtools.core.config import load_config
from evtools.present import plots, render, runs_text, tables

cfg = load_config(config)
result = runs.investigate(
    cfg,
    str(cfg.resolve(run_log)) if run_log else None,
    log_format or None,
    thresholds=runs.Thresholds(min_ratio=min_ratio),
)
found = reports.record("history", result.summary())
display(render.show(found))

# %% [markdown]
# The job's own run history (a csv or jsonl log, dbt's run_results.json, an Airflow task-instance export, or
# evtools' own run log): per job, duration against volume, the runs where the cost per unit of volume jumped (the
# code, the plan or the platform changed) against growth the volume explains, failures and timeouts on the same
# axis, and the N+1 signature (one call per row) with what batching would save.
#
# ## The jobs

# %%
display(plots.run_history(result, runs_text.jobs_to_show(result)))
display(render.table(runs_text.jobs_table(result), tables.JOBS, "jobs", report_dir))

# %% [markdown]
# ## How the verdicts are reached

# %%
display(render.quote(runs))
