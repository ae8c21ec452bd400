-- The dates validated together (validate with more than one date): one row per distinct date of $dates.
-- makes: _gx_dates
CREATE OR REPLACE TEMP TABLE _gx_dates AS
SELECT DISTINCT CAST(d AS DATE) AS date FROM (SELECT unnest($dates) AS d) AS given
