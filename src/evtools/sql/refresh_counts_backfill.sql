-- What a backfill rewrote: keys and dates.
-- reads: _backfill
SELECT count(*), count(DISTINCT date) FROM _backfill
