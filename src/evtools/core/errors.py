"""The evtools exception family and the one table of exit codes.

The CLI turns every exception into one line and an exit code: 0 ok, 1 a check failed (and only that), 2 bad input or
usage, 3 an engine or environment failure (out of memory, disk, a dependency, another process holding a resource),
130 interrupted (SIGINT or SIGTERM). ``classify`` maps the exceptions of the libraries evtools drives (DuckDB, the OS,
pyarrow, Spark) into this family, so no library error escapes as a traceback or as the exit code of a failed check.
"""

from __future__ import annotations

import contextlib
import errno
import json
import signal
import socket
import sys
import threading
import weakref
from collections.abc import Callable

from evtools.core.redact import scrub

OK, CHECK_FAILED, BAD_INPUT, ENVIRONMENT, INTERRUPTED = 0, 1, 2, 3, 130


class EvtoolsError(Exception):
    """Bad input or usage the user can fix: exit code 2."""

    exit_code = BAD_INPUT


class ConfigError(EvtoolsError):
    """The config file is missing, unreadable or holds an unknown key or a value of the wrong type."""


class DataError(EvtoolsError):
    """A source is missing, lacks a mapped column, has a column of the wrong type, or null keys."""


class CheckFailed(EvtoolsError):
    """A check ran and found offending rows (a failed expectation, a verification difference): exit code 1."""

    exit_code = CHECK_FAILED


class EngineError(EvtoolsError):
    """The engine or the environment failed (out of memory, disk full, a missing dependency, a database that cannot be
    reached, a statement it refused): exit code 3."""

    exit_code = ENVIRONMENT


class ConcurrentRun(EngineError):
    """Another process holds a lock evtools needs (the aggregate database, an output folder): exit code 3."""


class Interrupted(EvtoolsError):
    """The run was interrupted by SIGINT or SIGTERM: exit code 130."""

    exit_code = INTERRUPTED


class _Signals:
    """The signal that interrupted this process, if one did (set by the CLI's handlers), and the DuckDB connections
    whose running query a signal interrupts."""

    received: int | None = None
    raised = False  # the handler has raised its KeyboardInterrupt (once)
    connections: weakref.WeakSet = weakref.WeakSet()


def interruptible(con):
    """Register the DuckDB connection ``con`` so that SIGINT or SIGTERM interrupts the query it runs; return it."""
    _Signals.connections.add(con)
    return con


def wake_queries() -> Callable[[], None]:
    """Interrupt the registered connections' queries when a signal arrives; return the function that stops this.

    A query running inside DuckDB never returns to Python, where the signal's handler would run, so the handler
    alone would wait for the query's end: the signal's wake-up byte is read by a thread that interrupts the
    queries instead, and the handler runs as soon as DuckDB gives up."""
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    thread = threading.Thread(target=_interrupt_queries, args=(reader,), daemon=True, name="evtools-signals")
    thread.start()

    def stop() -> None:
        try:
            signal.set_wakeup_fd(previous)
        except OSError:  # the previous one was closed meanwhile (an event loop that did not put its own back)
            signal.set_wakeup_fd(-1)
        writer.close()  # the thread reads the end of the stream and leaves
        thread.join(5)  # before the interpreter ends: a thread inside DuckDB at exit aborts the process

    return stop


def _interrupt_queries(reader: socket.socket) -> None:
    with reader:
        while received := reader.recv(16):
            _Signals.received = received[-1]  # the wake-up byte is the signal's number
            for con in list(_Signals.connections):
                with contextlib.suppress(Exception):
                    con.interrupt()


def interrupt_handler(signum, frame) -> None:
    """SIGINT and SIGTERM alike: remember the signal and unwind the stack (finally blocks, temp folders) as a
    KeyboardInterrupt would. A query running in DuckDB is interrupted (``wake_queries``) and raises its own error,
    which already unwinds the stack and which ``classify`` turns into exit 130 because the signal was received."""
    _Signals.received = signum
    if _Signals.raised:  # once: a second signal must not cut the clean-up short
        return
    _Signals.raised = True
    if type(sys.exc_info()[1]).__name__ == "InterruptException":  # the interrupted query's error is unwinding
        return
    raise KeyboardInterrupt


def interrupted_by() -> str | None:
    return signal.Signals(_Signals.received).name if _Signals.received else None


_DISK = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENOMEM, errno.EMFILE, errno.ENFILE}
_DUCKDB_INPUT = {
    "InvalidInputException": "invalid input",
    "ConversionException": "a value does not convert to its column's type",
    "ParserException": "SQL syntax error",
    "SyntaxException": "SQL syntax error",
    "BinderException": "a name does not resolve",
    "CatalogException": "no such table or column",
    "OutOfRangeException": "a value is out of range (a sum of events may overflow 64-bit integers)",
    "ConstraintException": "a constraint is violated",
    "TypeMismatchException": "a type mismatch",
    "NotImplementedException": "not supported by DuckDB",
}


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(e).__name__


def classify(e: BaseException) -> EvtoolsError:
    """The evtools error for any exception: its exit code and one line (secrets removed)."""
    if interrupted_by() or isinstance(e, KeyboardInterrupt | Interrupted):
        return Interrupted(f"interrupted ({interrupted_by() or 'SIGINT'})")
    if isinstance(e, EvtoolsError):
        error = EvtoolsError(scrub(_first_line(e)))
        error.exit_code = e.exit_code
        return error
    kind, line = type(e).__name__, scrub(_first_line(e))[:400]
    module = type(e).__module__ or ""
    if module.startswith("duckdb") or module.startswith("_duckdb"):
        return _duckdb(kind, line)
    if isinstance(e, MemoryError):
        return EngineError("out of memory: lower the data's size or raise the machine's memory")
    if isinstance(e, ImportError):
        name = getattr(e, "name", None) or line
        return EngineError(f"a dependency is missing or broken: {name}; reinstall evtools (pip install evtools)")
    if isinstance(e, UnicodeDecodeError):
        return EvtoolsError(f"not UTF-8 text: {line}")
    if isinstance(e, json.JSONDecodeError):
        return EvtoolsError(f"not valid JSON: {line}")
    if isinstance(e, OSError):
        where = f"{scrub(str(e.filename))}: " if e.filename else ""
        reason = e.strerror or line
        if e.errno in _DISK:
            return EngineError(f"{where}{reason}")
        return EvtoolsError(f"{where}{reason}")
    if module.startswith("pyarrow") and kind in ("ArrowInvalid", "ArrowTypeError", "ArrowNotImplementedError"):
        return EvtoolsError(f"cannot read the data: {line}")
    if module.startswith(("py4j", "pyspark")):
        return EngineError(f"the Spark engine failed: {line}")
    return EngineError(f"internal error ({kind}): {line}; run with --debug for the traceback")


def _duckdb(kind: str, line: str) -> EvtoolsError:
    if kind == "OutOfMemoryException":
        return EngineError(f"out of memory in DuckDB: {line}; raise settings.memory_limit or free memory")
    if kind == "InterruptException" or line.startswith("Query interrupted"):
        return Interrupted("interrupted")
    if kind == "IOException":
        if "lock" in line.lower():
            return ConcurrentRun(f"another process holds a DuckDB file: {line}")
        if any(s in line for s in ("No space left", "Disk full", "Read-only file system", "Quota exceeded")):
            return EngineError(f"disk: {line}")
        return EvtoolsError(f"cannot read or write a file: {line}")
    if "out of range" in line:
        kind = "OutOfRangeException"
    if kind in _DUCKDB_INPUT:
        return EvtoolsError(f"{_DUCKDB_INPUT[kind]}: {line}")
    return EngineError(f"DuckDB failed ({kind}): {line}")
