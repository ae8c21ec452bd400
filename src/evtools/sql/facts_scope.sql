-- The rows an analysis of some keys needs: every row of every event_id that has a row on a key of company
-- $company (NULL: any) with date between $date_from and $date_to (NULL: open). Each figure of those keys depends
-- only on these rows, so analyses over this scope give the same figures for them as over all of fact_events.
-- reads: fact_events
-- makes: _facts
CREATE OR REPLACE TEMP TABLE _facts AS
SELECT *
FROM fact_events
WHERE event_id IN (
    SELECT event_id FROM fact_events
    WHERE ($company IS NULL OR CAST(company_id AS VARCHAR) = $company)
      AND date BETWEEN coalesce(CAST($date_from AS DATE), date) AND coalesce(CAST($date_to AS DATE), date)
)
