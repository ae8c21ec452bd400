-- Backfill, step 2: rebuild the aggregate's rows for the dates $first..$last from the latest versions lying there.
-- reads: _versions, agg.agg_company_daily_events
-- makes: _backfill, agg.agg_company_daily_events
CREATE OR REPLACE TEMP TABLE _backfill AS
SELECT company_id, date, CAST(sum(events) AS BIGINT) AS events, CAST(count(*) AS BIGINT) AS rows
FROM _versions
WHERE is_latest AND date BETWEEN $first AND $last
GROUP BY company_id, date;

DELETE FROM agg.agg_company_daily_events WHERE date BETWEEN $first AND $last;

INSERT INTO agg.agg_company_daily_events
SELECT company_id, date, events, rows, CAST($now AS TIMESTAMP) FROM _backfill
