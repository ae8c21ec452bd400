-- What a full build read and wrote: latest versions (the rows counted), keys, dates.
-- reads: agg.agg_company_daily_events
SELECT CAST(coalesce(sum(rows), 0) AS BIGINT), count(*), count(DISTINCT date) FROM agg.agg_company_daily_events
