-- Rows a refresh up to $until leaves for later: those ingested after $until, among them those stamped after $now
-- ("from the future": a wrong clock or value), and the newest ingested_at.
-- reads: fact_events
SELECT count(*) FILTER (WHERE ingested_at > $until) AS waiting,
       count(*) FILTER (WHERE ingested_at > $now) AS future,
       max(ingested_at) AS newest
FROM fact_events
