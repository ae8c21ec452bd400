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
#
# Every evtools command appends a record to the run log (command, parameters, duration, rows and bytes read, peak
# RSS, status). Per command, duration is fitted against rows read; a run slower than twice the fit, or whose seconds
# per row jumped, is flagged: the signature of a plan change, a lost partition filter or row-by-row writes.

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
jump: float = 2.0  # how many times slower than expected a run must be to be flagged

# %%
from IPython.display import Markdown, display

from evtools import plots, reports, runlog
from evtools.config import load_config

cfg = load_config(config)
history, fits = runlog.analyse(runlog.read(cfg.run_log), jump)
display(Markdown(runlog.describe(history, fits)))

# %%
if len(history):
    fig = plots.run_history(history)
    display(history.tail(30))

# %%
reports.record("history", {"runs": len(history), "flagged": int((history.get("flag", "") != "").sum()) if len(history) else 0,
                           "fits": fits})
