-- The scope the connection's shared tables were prepared for (see quality.prepare).
-- reads: _prepared
SELECT scope FROM _prepared
