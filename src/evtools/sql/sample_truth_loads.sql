-- sample generator: the replayed and backfilled loads (rp: load_id, source_hour) with their rows and events.
COPY (
    SELECT rp.load_id,
           (SELECT min(load_id) FROM r WHERE r.stream = 0 AND r.load_start = rp.source_hour * 3600)
               AS source_load_id,
           count(r.load_id) AS rows, coalesce(sum(r.events), 0)::BIGINT AS events
    FROM rp LEFT JOIN r USING (load_id)
    GROUP BY ALL HAVING count(r.load_id) > 0 ORDER BY rp.load_id
) TO $p (FORMAT parquet)
