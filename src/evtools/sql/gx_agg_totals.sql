-- expectations batch "totals" of the aggregate: its total for $date and the deduplicated source total (latest
-- version per event_id over the rows ingested <= the aggregate's watermark, summed where the version lies).
WITH ids AS (
    SELECT DISTINCT event_id FROM fact_events WHERE date = $date AND ingested_at <= $watermark
),
latest AS (
    SELECT max((ingested_at, events, date)) AS l
    FROM fact_events
    WHERE event_id IN (SELECT event_id FROM ids) AND ingested_at <= $watermark
    GROUP BY event_id
)
SELECT $date AS date,
       (SELECT coalesce(sum(events), 0) FROM agg.agg_company_daily_events WHERE date = $date)::BIGINT
           AS aggregate_events,
       (SELECT coalesce(sum(l[2]), 0) FROM latest WHERE l[3] = $date)::BIGINT AS source_events
