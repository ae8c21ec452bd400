-- A date whose dashboard keys were computed at different times, if any (see quality.times_by_date).
SELECT date FROM _date_times WHERE NOT uniform LIMIT 1
