-- What a full build on a lakehouse wrote: latest versions (the rows counted), keys, dates (refresh_counts_full.sql
-- over the staged aggregate).
-- reads: _full_agg
SELECT CAST(coalesce(sum(rows), 0) AS BIGINT), count(*), count(DISTINCT date) FROM _full_agg
