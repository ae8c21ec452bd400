-- The aggregate of the latest versions in _latest_src (the touched partitions, or the whole state). rows = latest versions
-- counted on the key.
SELECT company_id, date, sum(events)::BIGINT AS events, count(*)::BIGINT AS rows,
       CAST($now AS TIMESTAMP) AS refreshed_at
FROM _latest_src
GROUP BY company_id, date
