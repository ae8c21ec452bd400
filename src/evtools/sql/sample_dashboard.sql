-- sample generator: the legacy job's table. Every day at 02:00 UTC it re-summed the last 2 complete dates over
-- what had been ingested, so date d was last computed at d + 2 days 02:00 (computed_at); then dashboard.parquet.
CREATE TABLE dash AS
SELECT company_id, CAST(to_timestamp(ts) AS DATE) AS date, SUM(events)::BIGINT AS events,
       CAST(to_timestamp((ts // 86400 + 2) * 86400 + 7200) AS TIMESTAMP) AS computed_at
FROM r
WHERE ingested <= (ts // 86400 + 2) * 86400 + 7200
GROUP BY ALL;

COPY (SELECT * FROM dash ORDER BY ALL) TO $p (FORMAT parquet);
