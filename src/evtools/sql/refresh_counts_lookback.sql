-- What a lookback run read and rewrote: rows counted in the window, keys, dates.
-- reads: _window
SELECT sum(rows), count(*), count(DISTINCT date) FROM _window
