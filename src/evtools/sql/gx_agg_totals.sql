-- expectations batch "totals" of the aggregate: its total for $date and the deduplicated source total (the latest
-- versions as of the aggregate's watermark that lie on $date, from _versions, and the rows without an event_id, each
-- its own version as in the full build).
-- reads: _versions, fact_events, agg.agg_company_daily_events
SELECT CAST($date AS DATE) AS date,
       (SELECT CAST(coalesce(sum(events), 0) AS BIGINT) FROM agg.agg_company_daily_events WHERE date = $date)
           AS aggregate_events,
       (SELECT CAST(coalesce(sum(events), 0) AS BIGINT) FROM _versions WHERE is_latest AND date = $date)
       + (SELECT CAST(coalesce(sum(events), 0) AS BIGINT) FROM fact_events
          WHERE event_id IS NULL AND date = $date AND ingested_at <= $watermark) AS source_events
