-- expectations batch "totals" of the aggregate for every date of _gx_dates at once: per date, the aggregate's
-- (live) total and the deduplicated source total: the latest versions (agg.evtools_versions, made by the full
-- build's own steps as of the aggregate's watermark, in a scratch database) lying on the date. Restricted to a date,
-- it is gx_agg_totals.sql's row.
-- reads: _gx_dates, live.agg_company_daily_events, agg.evtools_versions
-- makes: _gx_batch
CREATE OR REPLACE TEMP TABLE _gx_batch AS
SELECT d.date, coalesce(a.events, 0) AS aggregate_events, coalesce(s.events, 0) AS source_events
FROM _gx_dates AS d
LEFT JOIN (
    SELECT date, CAST(sum(events) AS BIGINT) AS events FROM live.agg_company_daily_events GROUP BY date
) AS a ON a.date = d.date
LEFT JOIN (
    SELECT date, CAST(sum(events) AS BIGINT) AS events FROM agg.evtools_versions WHERE is_latest GROUP BY date
) AS s ON s.date = d.date
