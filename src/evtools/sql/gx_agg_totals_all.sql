-- expectations batch "totals" of the aggregate for every date of _gx_dates at once: per date, the aggregate's total
-- and the deduplicated source total as of its watermark ($until), summed as the full build sums it
-- (refresh_full_agg.sql): the rows ingested <= $until, less those of the repeated event ids (_version_rows: n_by
-- rows per payload), plus their latest versions (_versions). Restricted to a date, it is gx_agg_totals.sql's row.
-- reads: _gx_dates, fact_events, _version_rows, _versions, agg.agg_company_daily_events
-- makes: _gx_batch
CREATE OR REPLACE TEMP TABLE _gx_batch AS
SELECT d.date, coalesce(a.events, 0) AS aggregate_events, coalesce(s.events, 0) AS source_events
FROM _gx_dates AS d
LEFT JOIN (
    SELECT date, CAST(sum(events) AS BIGINT) AS events FROM agg.agg_company_daily_events GROUP BY date
) AS a ON a.date = d.date
LEFT JOIN (
    SELECT date, CAST(sum(ev) AS BIGINT) AS events
    FROM (
        SELECT date, sum(events) AS ev FROM fact_events WHERE ingested_at <= $until GROUP BY date
        UNION ALL
        SELECT date, -sum(events * n_by) AS ev FROM _version_rows GROUP BY date
        UNION ALL
        SELECT date, sum(events) AS ev FROM _versions WHERE is_latest GROUP BY date
    ) AS parts
    GROUP BY date
) AS s ON s.date = d.date
