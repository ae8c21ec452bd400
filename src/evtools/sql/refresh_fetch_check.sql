-- The two halves of the located lookup agree: as many rows fetched as places found, each of a touched event id
-- (a file of fact_events rewritten in between moves rows: then they differ). One row: (places, fetched, foreign).
-- reads: _hits, _fetched, _touched
SELECT (SELECT count(*) FROM _hits) AS places,
       (SELECT count(*) FROM _fetched) AS fetched,
       (SELECT count(*) FROM _fetched AS f
        WHERE NOT EXISTS (SELECT 1 FROM _touched AS t WHERE t.event_id = f.event_id)) AS foreign_rows
