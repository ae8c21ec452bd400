-- What a full build read and wrote: latest versions, keys, dates.
SELECT (SELECT count(*) FROM agg.evtools_latest), count(*), count(DISTINCT date) FROM agg.agg_company_daily_events
