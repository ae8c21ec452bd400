-- Full build, step 2: the aggregate as of $until: per key, the sum and count of all rows ingested <= $until, less
-- those of the repeated event ids (_version_rows), plus their latest versions (_versions). rows = latest versions
-- counted on the key; a key left with none is not in the table.
-- reads: fact_events, _version_rows, _versions
-- makes: agg.agg_company_daily_events
CREATE OR REPLACE TABLE agg.agg_company_daily_events AS
WITH parts AS (
    SELECT company_id, date, sum(events) AS ev, count(*) AS n
    FROM fact_events WHERE ingested_at <= $until GROUP BY company_id, date
    UNION ALL
    SELECT company_id, date, -sum(events), -count(*) FROM _version_rows GROUP BY company_id, date
    UNION ALL
    SELECT company_id, date, sum(events), count(*) FROM _versions WHERE is_latest GROUP BY company_id, date
)
SELECT company_id, date, CAST(sum(ev) AS BIGINT) AS events, CAST(sum(n) AS BIGINT) AS rows,
       CAST($now AS TIMESTAMP) AS refreshed_at
FROM parts
GROUP BY company_id, date
HAVING sum(n) > 0
