"""The ``evtools`` command (and ``python -m evtools``): the signal handlers first, then the CLI.

Importing the CLI loads pandas, DuckDB and Jinja (a second or more on a busy machine); SIGINT or SIGTERM during that
time is exit 130 with its one line like any other interrupt, and nothing has been written yet. Before this module
runs, the interpreter's own start-up has the signals' default effect, which writes nothing either.
"""

import os
import signal
import sys

_received: list[int] = []


def _early(signum, frame) -> None:
    """Until evtools.errors is loaded: remember the signal and stop the imports (once)."""
    _received.append(signum)
    if len(_received) == 1:
        raise KeyboardInterrupt


def main() -> None:
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _early)
        from evtools.core import errors

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, errors.interrupt_handler)
        from evtools.app import cli

        code = cli.main()
    except SystemExit as e:  # argparse: --help, or a usage error it has printed
        code = e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    except KeyboardInterrupt:  # before the CLI's own error boundary (its imports) or after it
        loaded = sys.modules.get("evtools.core.errors")
        name = (loaded and loaded.interrupted_by()) or signal.Signals(_received[0] if _received else 2).name
        sys.stderr.write(f"evtools: interrupted ({name})\n")
        code = 130
    _exit(code)


def _exit(code: int) -> None:
    """End with ``code`` once what is registered for exit has run. The run is over: a signal now interrupts nothing
    (it is ignored), where the interpreter winding down would end the process by it; and an interrupt that passed
    through the interpreter's own code on its way to evtools' handler can otherwise turn exit 130 into death by
    SIGINT."""
    import atexit
    import gc

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    gc.collect()  # what the run left unreferenced (connections, temporary folders) is closed and removed
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
