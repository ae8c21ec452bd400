-- sample generator: rows of r, and retries, replay copies and corrections among them.
SELECT count(*), count(*) FILTER (WHERE kind = 2), count(*) FILTER (WHERE kind = 3), count(*) FILTER (WHERE kind = 1)
FROM r
