-- expectations batch "freshness" of fact_events: hours from the newest ingested_at to the run ($as_of), over the rows
-- stamped no later than the run's clock ($now); future_rows = rows stamped later than that (a wrong clock or value:
-- refresh leaves them out, see refresh.clamp_until).
-- reads: fact_events
SELECT max(ingested_at) FILTER (WHERE ingested_at <= CAST($now AS TIMESTAMP)) AS newest_ingested_at,
       CAST(date_diff('second', max(ingested_at) FILTER (WHERE ingested_at <= CAST($now AS TIMESTAMP)),
                      CAST($as_of AS TIMESTAMP)) AS DOUBLE) / 3600 AS hours_since_newest,
       count(*) FILTER (WHERE ingested_at > CAST($now AS TIMESTAMP)) AS future_rows
FROM fact_events
