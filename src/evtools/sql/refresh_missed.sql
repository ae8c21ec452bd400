-- Rows ingested since the watermark whose date is before the lookback window: what a fixed-window job drops.
SELECT count(*) AS rows, coalesce(sum(events), 0)::BIGINT AS events
FROM fact_events
WHERE ingested_at > $watermark AND ingested_at <= $until AND date < $since
