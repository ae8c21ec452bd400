-- The dates whose state partitions an incremental run rewrites: where a version of a touched event id lies now
-- (_versions) or lay before (_old).
-- reads: _versions, _old
-- makes: _touched
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT date FROM _versions
UNION
SELECT date FROM _old
