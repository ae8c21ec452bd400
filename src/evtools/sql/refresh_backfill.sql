-- Backfill: rebuild the aggregate's rows for the dates $first..$last from the stored latest versions.
CREATE OR REPLACE TEMP TABLE _backfill AS
SELECT company_id, date, sum(events)::BIGINT AS events, count(*)::BIGINT AS rows
FROM agg.evtools_latest
WHERE date BETWEEN $first AND $last
GROUP BY ALL;

DELETE FROM agg.agg_company_daily_events WHERE date BETWEEN $first AND $last;

INSERT INTO agg.agg_company_daily_events
SELECT company_id, date, events, rows, CAST($now AS TIMESTAMP) FROM _backfill;
