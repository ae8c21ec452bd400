-- What an incremental run on the lakehouse aggregate read and changed: new rows, keys changed, dates they lie on
-- (as refresh_counts.sql; the partitions rewritten are those of _touched).
SELECT (SELECT count(*) FROM _new), count(*), count(DISTINCT date) FROM _delta
