-- expectations batch "rows" for every date of _gx_dates at once: the dataset's (_gx_source) rows of those dates
-- (gx_rows.sql's frames of all those dates).
-- reads: _gx_source, _gx_dates
-- makes: _gx_batch
CREATE OR REPLACE TEMP VIEW _gx_batch AS
SELECT * FROM _gx_source WHERE date IN (SELECT date FROM _gx_dates)
