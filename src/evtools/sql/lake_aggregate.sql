-- The aggregate of the latest versions in _state_src (the touched partitions, or the whole state). rows = latest
-- versions counted on the key.
-- reads: _state_src
SELECT company_id, date, CAST(sum(events) AS BIGINT) AS events, CAST(count(*) AS BIGINT) AS rows,
       CAST($now AS TIMESTAMP) AS refreshed_at
FROM _state_src
WHERE is_latest
GROUP BY company_id, date
