"""How every figure is written, in every medium (terminal, HTML, Slack): one rule per kind of value.

An unknown value (None, NaN, NaT) is written as ``DASH``; the medium adds the footnote saying why it is unknown.
"""

from __future__ import annotations

import datetime as dt
import math
from numbers import Number

DASH = "–"


def unknown(value) -> bool:
    """None, NaN and NaT (pandas' missing values) are unknown."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are the only values unequal to themselves
    except (TypeError, ValueError):
        return False


def count(value) -> str:
    """An integer count with thousands separators: 1,234,567."""
    return DASH if unknown(value) else f"{int(round(float(value))):,}"


def signed(value) -> str:
    """A signed count: +1,234 / -1,234 / 0."""
    if unknown(value):
        return DASH
    n = int(round(float(value)))
    return f"{n:+,}" if n else "0"


def share(value, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage; below 0.1% (but above 0) with more digits so it never reads 0.0%."""
    if unknown(value):
        return DASH
    pct = 100 * float(value)
    if 0 < abs(pct) < 10**-digits:
        return f"{pct:.{digits + 2}f}%"
    return f"{pct:.{digits}f}%"


def size(value) -> str:
    """Bytes in the largest unit that keeps the number at least 1: 512 B, 52.3 kB, 1.9 MB, 2.41 GB."""
    if unknown(value):
        return DASH
    n = float(value)
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            v = n / scale
            return f"{v:,.2f} {unit}" if v < 10 else f"{v:,.1f} {unit}"
    return f"{int(n):,} B"


def seconds(value) -> str:
    """A duration: 12.1 ms under a second, 1.43 s / 12.1 s under a minute, else minutes and seconds."""
    if unknown(value):
        return DASH
    s = float(value)
    if s >= 60:
        minutes, rest = divmod(round(s), 60)
        return f"{minutes} min {rest} s"
    if s == 0:
        return "0 s"
    if s < 0.001:
        return "< 1 ms"
    if s < 1:
        return f"{_three(1000 * s)} ms"
    return f"{_three(s)} s"


def _three(x: float) -> str:
    """Three significant digits, without exponent: 21.7, 1.43, 312."""
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:.{digits}f}"


def ratio(value, digits: int = 2) -> str:
    """A multiple: 17.45x."""
    return DASH if unknown(value) else f"{float(value):,.{digits}f}x"


def number(value, digits: int = 2) -> str:
    """Any other number: an integer as a count, else with ``digits`` decimals."""
    if unknown(value):
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Number) and float(value).is_integer():
        return count(value)
    return f"{float(value):,.{digits}f}"


def date(value) -> str:
    """A date as YYYY-MM-DD (a timestamp keeps its date only)."""
    if unknown(value):
        return DASH
    if isinstance(value, str):
        return value[:10]
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date().isoformat()
    return value.isoformat()


def timestamp(value) -> str:
    """A time to the minute: YYYY-MM-DD HH:MM (UTC, as stored)."""
    if unknown(value):
        return DASH
    if isinstance(value, str):
        return value[:16].replace("T", " ")
    return f"{value:%Y-%m-%d %H:%M}"


def period(first, last) -> str:
    """A date range: 2026-01-01 to 2026-03-01 (61 dates)."""
    if unknown(first) or unknown(last):
        return DASH
    a, b = _as_date(first), _as_date(last)
    return f"{a.isoformat()} to {b.isoformat()} ({(b - a).days + 1:,} dates)"


def duration(value) -> str:
    """A time span: 2 d 05:44, 05:44 (hours:minutes), or seconds under a minute."""
    if unknown(value):
        return DASH
    total = value.total_seconds() if hasattr(value, "total_seconds") else float(value)
    sign, total = ("-" if total < 0 else ""), abs(total)
    if total < 60:
        return f"{sign}{total:.0f} s"
    days, rest = divmod(int(total), 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    return f"{sign}{days} d {hours:02d}:{minutes:02d}" if days else f"{sign}{hours:02d}:{minutes:02d}"


def yesno(value) -> str:
    return DASH if unknown(value) else ("yes" if bool(value) else "no")


def text(value) -> str:
    return DASH if unknown(value) or value == "" else str(value)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


KINDS = {
    "count": count,
    "events": count,
    "signed": signed,
    "share": share,
    "bytes": size,
    "seconds": seconds,
    "ratio": ratio,
    "number": number,
    "date": date,
    "timestamp": timestamp,
    "duration": duration,
    "yesno": yesno,
    "text": text,
}


def value(kind: str, v) -> str:
    """Format ``v`` as ``kind`` (a key of KINDS)."""
    return KINDS[kind](v)
