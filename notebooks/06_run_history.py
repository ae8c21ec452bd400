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
# # Run history: is the job getting slower faster than its data grows?

# %% tags=["parameters"]
config: str = "../data/sample/evtools.toml"  # evtools config file
jump: float = 2.0  # how many times slower than expected a run must be to be flagged
report_dir: str = ""  # where the report is written (set by evtools report); full tables go there as csv

# %%
from IPython.display import display

from evtools import plots, render, reports, runlog, tables
from evtools.config import load_config

cfg = load_config(config)
history, fits = runlog.analyse(runlog.read(cfg.run_log), jump)
found = reports.record("history", {"runs": len(history), "flagged": int((history.get("flag", "") != "").sum()) if len(history) else 0,
                                   "fits": fits})
display(render.show(found))

# %% [markdown]
# Every evtools command appends a record to the run log (command, parameters, duration, rows and bytes read, peak
# RSS, status). Per command, duration is fitted against rows read; a run slower than twice the fit, or whose seconds
# per row jumped, is flagged: the signature of a plan change, a lost partition filter or row-by-row writes.

# %%
display(plots.run_history(history))
display(render.table(history[::-1], tables.RUNS, "runs", report_dir))
