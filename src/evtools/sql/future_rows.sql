-- Rows a refresh up to $until leaves for later: those ingested after $until, among them those stamped after $now
-- ("from the future": a wrong clock or value), and the newest ingested_at of them. Only the files and row groups
-- whose statistics reach past $until are read.
-- reads: fact_events
SELECT count(*) AS waiting,
       count(*) FILTER (WHERE ingested_at > $now) AS future,
       max(ingested_at) AS newest
FROM fact_events
WHERE ingested_at > $until
