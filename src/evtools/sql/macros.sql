-- The scalar definitions the queries share (see evtools.rules). DuckDB defines them as macros on every
-- connection; for other dialects each call is replaced by the macro's body on the parse tree.

-- arrival_lag(d, ingested_at): a row's arrival lag: whole days from its date d to the UTC date of its ingested_at.
CREATE OR REPLACE TEMP MACRO arrival_lag(d, ingested_at) AS date_diff('day', d, CAST(ingested_at AS DATE));
