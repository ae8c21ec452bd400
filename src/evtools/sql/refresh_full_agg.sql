-- Full build, step 2: the aggregate from the latest versions. rows = latest versions counted on the key.
CREATE OR REPLACE TABLE agg.agg_company_daily_events AS
SELECT company_id, date, sum(events)::BIGINT AS events, count(*)::BIGINT AS rows,
       CAST($now AS TIMESTAMP) AS refreshed_at
FROM agg.evtools_latest
GROUP BY company_id, date
