-- Placeholder so this branch's migrations run 1..N without gaps: number 0009 belongs to the
-- scenes work (a parallel branch). When merging, keep that branch's 0009_scenes.sql.
SELECT 1;
