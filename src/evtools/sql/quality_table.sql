-- The quality figures per (company_id, date) (_quality), in key order: the table quality writes.
-- reads: _quality
SELECT * FROM _quality ORDER BY company_id, date
