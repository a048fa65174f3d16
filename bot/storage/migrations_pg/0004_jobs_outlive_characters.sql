-- A job outlives its character (the reference is cleared, not the job deleted).
ALTER TABLE jobs DROP CONSTRAINT jobs_character_id_fkey;
ALTER TABLE jobs ADD CONSTRAINT jobs_character_id_fkey
    FOREIGN KEY (character_id) REFERENCES characters(id) ON DELETE SET NULL;
