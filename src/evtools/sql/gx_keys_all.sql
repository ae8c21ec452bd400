-- expectations batch "keys" for every date of _gx_dates at once: one row per (company_id, date) of the dataset
-- (_gx_source) on those dates, n = its rows (gx_keys.sql's frames of all those dates).
-- reads: _gx_source, _gx_dates
-- makes: _gx_batch
CREATE OR REPLACE TEMP VIEW _gx_batch AS
SELECT company_id, date, count(*) AS n
FROM _gx_source
WHERE date IN (SELECT date FROM _gx_dates)
GROUP BY company_id, date
