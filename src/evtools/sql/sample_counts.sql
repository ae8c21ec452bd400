-- sample generator: rows of r, and retries, replay copies, corrections and backfill copies among them.
SELECT count(*), count(*) FILTER (WHERE kind = 2), count(*) FILTER (WHERE kind = 3), count(*) FILTER (WHERE kind = 1),
       count(*) FILTER (WHERE kind = 4)
FROM r
