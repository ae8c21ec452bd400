-- The dates an incremental run rewrites: where a new latest version lies (_cand) or a superseded one lay (_old).
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT date FROM _cand
UNION
SELECT date FROM _old
