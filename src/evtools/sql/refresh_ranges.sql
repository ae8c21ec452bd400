-- Incremental step 2 on a lakehouse (lake_lookup.sql): the event ids of the new rows as at most 8 ranges [lo, hi]
-- that cover them all: sorted, split at the 7 widest gaps. Time-ordered ids (sequences, snowflake ids) give a few narrow ranges, so the lookup reads
-- only the parts of fact_events whose statistics overlap them; random ids give ranges that cover everything.
-- Numeric ids only (refresh.py uses one range, the minimum and maximum, for others).
-- reads: _touched
WITH s AS (
    SELECT event_id, event_id - lag(event_id) OVER (ORDER BY event_id) AS gap FROM _touched
),
cuts AS (
    SELECT event_id FROM (
        SELECT event_id, row_number() OVER (ORDER BY gap DESC, event_id) AS rank FROM s WHERE gap IS NOT NULL
    ) AS g
    WHERE rank <= 7
),
starts AS (
    SELECT min(event_id) AS event_id FROM _touched
    UNION ALL
    SELECT event_id FROM cuts
),
bounds AS (
    SELECT event_id AS lo, lead(event_id) OVER (ORDER BY event_id) AS next_lo FROM starts
)
SELECT b.lo, (SELECT max(t.event_id) FROM _touched AS t
              WHERE t.event_id >= b.lo AND (b.next_lo IS NULL OR t.event_id < b.next_lo)) AS hi
FROM bounds AS b
ORDER BY b.lo
