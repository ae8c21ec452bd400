-- What a backfill rewrote: keys and dates.
SELECT count(*), count(DISTINCT date) FROM _backfill
