-- The fixed-window job (strategy lookback): recompute the dates from $since on from the rows ingested <= $until
-- that lie on them, latest version per event_id among those rows only, and replace them. Rows that arrive for
-- older dates are never seen: that is what this strategy misses.
CREATE OR REPLACE TEMP TABLE _window AS
SELECT l[4] AS company_id, l[3] AS date, sum(l[2])::BIGINT AS events, count(*)::BIGINT AS rows
FROM (
    SELECT event_id, max((ingested_at, events, date, company_id)) AS l
    FROM fact_events
    WHERE date >= $since AND ingested_at <= $until
    GROUP BY event_id
)
GROUP BY ALL;
