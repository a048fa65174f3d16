-- Ids never reused: PostgreSQL's identity sequences already never hand an id out twice (see
-- 0001). What remains: picture references become foreign keys that clear themselves, and
-- characters.drawn. A PostgreSQL database is always created empty, so nothing is backfilled.
ALTER TABLE characters ADD COLUMN drawn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE characters ADD CONSTRAINT characters_canonical_image_id_fkey
    FOREIGN KEY (canonical_image_id) REFERENCES images(id) ON DELETE SET NULL;
ALTER TABLE images ADD CONSTRAINT images_parent_image_id_fkey
    FOREIGN KEY (parent_image_id) REFERENCES images(id) ON DELETE SET NULL;
ALTER TABLE jobs ADD CONSTRAINT jobs_parent_image_id_fkey
    FOREIGN KEY (parent_image_id) REFERENCES images(id) ON DELETE SET NULL;
CREATE INDEX ix_characters_forked_from ON characters (forked_from_id);
CREATE INDEX ix_characters_canonical ON characters (canonical_image_id);
CREATE INDEX ix_images_parent ON images (parent_image_id);
CREATE INDEX ix_jobs_character ON jobs (character_id);
CREATE INDEX ix_jobs_parent ON jobs (parent_image_id);
