-- Full build, step 4: the aggregate from the latest versions. rows = latest versions counted on the key.
-- reads: agg.evtools_versions
-- makes: agg.agg_company_daily_events
CREATE OR REPLACE TABLE agg.agg_company_daily_events AS
SELECT company_id, date, CAST(sum(events) AS BIGINT) AS events, CAST(count(*) AS BIGINT) AS rows,
       CAST($now AS TIMESTAMP) AS refreshed_at
FROM agg.evtools_versions
WHERE is_latest
GROUP BY company_id, date
