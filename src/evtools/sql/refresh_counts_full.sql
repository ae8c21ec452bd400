-- What a full build read and wrote: latest versions, keys, dates.
-- reads: agg.evtools_versions, agg.agg_company_daily_events
SELECT (SELECT count(*) FROM agg.evtools_versions WHERE is_latest), count(*), count(DISTINCT date)
FROM agg.agg_company_daily_events
