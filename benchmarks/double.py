"""Make a set twice the size of a generated one: its year, then the same year again a year later.

The generator keeps every row in memory (about 18 GB for 50M rows), so twice the large set is built from it:
every fact_events file is kept (linked) and written again with its dates, event times, ingestion times and the
dashboard's computation times one period later (the set's days, rounded up to whole weeks, so weekdays keep their
place), event ids and load ids moved past the original's. The copy has the original's faults, lags and day
boundaries, so every cost per row stays what it was and only the size doubles.

    python benchmarks/double.py benchmarks/data/large benchmarks/data/xl
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import duckdb


def double(src: Path, dest: Path) -> None:
    if (dest / "evtools.toml").exists():
        return
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "fact_events").mkdir(parents=True)
    meta = json.loads((src / "sample.json").read_text())
    days = -(-int(meta["spec"]["days"]) // 7) * 7
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    facts = str(src / "fact_events" / "*.parquet")
    id_shift, load_shift = con.execute(
        "SELECT max(event_id) + 1, coalesce(max(load_id), 0) + 1 FROM read_parquet($f)", {"f": facts}
    ).fetchone()
    shift = f"INTERVAL {days} DAY"
    for f in sorted((src / "fact_events").glob("*.parquet")):
        os.link(f, tmp / "fact_events" / f.name)
        con.execute(
            f"COPY (SELECT * REPLACE (event_id + $i AS event_id, date + {shift} AS date, event_ts + {shift} AS event_ts, "
            f"ingested_at + {shift} AS ingested_at, load_id + $l AS load_id) FROM read_parquet($f)) "
            "TO $out (FORMAT parquet)",
            {"i": id_shift, "l": load_shift, "f": str(f), "out": str(tmp / "fact_events" / f"later_{f.name}")},
        )
    con.execute(
        f"COPY (SELECT * FROM read_parquet($f) UNION ALL SELECT * REPLACE (date + {shift} AS date, "
        f"computed_at + {shift} AS computed_at) FROM read_parquet($f)) TO $out (FORMAT parquet)",
        {"f": str(src / "dashboard.parquet"), "out": str(tmp / "dashboard.parquet")},
    )
    con.execute(
        f"COPY (SELECT * FROM read_csv($f) UNION ALL SELECT * REPLACE (date + {shift} AS date, fetched_at + {shift} AS fetched_at) "
        "FROM read_csv($f)) "
        "TO $out (HEADER)",
        {"f": str(src / "api_daily.csv"), "out": str(tmp / "api_daily.csv")},
    )
    shutil.copy(src / "evtools.toml", tmp / "evtools.toml")
    meta["fact_rows"] = 2 * int(meta["fact_rows"])
    meta["doubled_from"] = str(src)
    (tmp / "sample.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    os.replace(tmp, dest)


if __name__ == "__main__":
    double(Path(sys.argv[1]), Path(sys.argv[2]))
