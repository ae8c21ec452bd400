-- The dates whose aggregate partitions an incremental run rewrites: those of the changed keys.
-- reads: _delta
-- makes: _touched_dates
CREATE OR REPLACE TEMP TABLE _touched_dates AS
SELECT DISTINCT date FROM _delta
