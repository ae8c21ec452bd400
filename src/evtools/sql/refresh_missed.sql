-- The new rows (_new, ingested since the watermark) whose date is before the lookback window ($since, see
-- evtools.rules.lookback_since): what a fixed-window run covering them drops.
-- reads: _new
SELECT count(*) AS rows, CAST(coalesce(sum(events), 0) AS BIGINT) AS events
FROM _new
WHERE date < $since
