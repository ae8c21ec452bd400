-- What an incremental touched run read and rewrote: new rows, keys changed, dates they lie on.
-- reads: _new, _delta
SELECT (SELECT count(*) FROM _new), count(*), count(DISTINCT date) FROM _delta
