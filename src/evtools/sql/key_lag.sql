-- The one pass over every row of _fact_t that the per-key figures and the arrival-lag curve share: per
-- (company_id, date, lag, late), where lag = arrival_lag(date, ingested_at) and late = ingested_at > t (NULL where
-- the key's computation time t is unknown), the rows and their events; t is the key's computation time (one value
-- per key). A few groups per key: the figures of quality_keys.sql and arrival_lag.sql are sums over these.
-- reads: _fact_t
-- makes: _key_lag
CREATE OR REPLACE TEMP TABLE _key_lag AS
SELECT company_id, date,
       arrival_lag(date, ingested_at) AS lag,
       ingested_at > t AS late,
       count(*) AS rows,
       CAST(sum(events) AS BIGINT) AS events,
       max(t) AS t
FROM _fact_t
GROUP BY company_id, date, arrival_lag(date, ingested_at), ingested_at > t
