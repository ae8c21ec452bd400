-- What a lookback run read and rewrote: rows counted in the window, keys, dates.
SELECT sum(rows), count(*), count(DISTINCT date) FROM _window
