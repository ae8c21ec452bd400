-- The scope the connection's shared tables were prepared for (see quality.prepare).
SELECT scope FROM _prepared
