-- Rows ingested since the watermark whose date is before the lookback window ($since, see
-- evtools.rules.lookback_since): what a fixed-window run covering them drops.
-- reads: fact_events
SELECT count(*) AS rows, CAST(coalesce(sum(events), 0) AS BIGINT) AS events
FROM fact_events
WHERE ingested_at > $watermark AND ingested_at <= $until AND date < $since
