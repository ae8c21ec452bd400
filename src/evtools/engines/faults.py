"""The test seam of the refresh and of the shared passes' cache: a run fails, is killed or holds still at a named point
when the environment asks."""

from __future__ import annotations

import os
import time
from pathlib import Path

FAULT_ENV = "EVTOOLS_REFRESH_FAULT"  # "raise:<point>", "kill:<point>" or "hold:<point>"


def fault(point: str) -> None:
    """Fail here when the test seam asks for it (``EVTOOLS_REFRESH_FAULT=raise:<point>`` or ``kill:<point>``), or
    hold the run's transaction open while the file ``EVTOOLS_REFRESH_HOLD`` exists (``hold:<point>``, 5 min at most)."""
    wanted = os.environ.get(FAULT_ENV, "")
    if not wanted.endswith(f":{point}"):
        return
    if wanted.startswith("hold:"):
        deadline = time.monotonic() + 300
        hold = Path(os.environ.get("EVTOOLS_REFRESH_HOLD") or os.devnull)
        if hold.is_file():
            hold.with_name(hold.name + ".reached").touch()  # the test holding the run knows it is here
        while hold.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        return
    if wanted.startswith("kill:"):
        os.kill(os.getpid(), 9)
    raise RuntimeError(f"injected fault at {point}")
