ALTER TABLE characters ADD COLUMN scenes_allowed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE guild_config ADD COLUMN scenes TEXT NOT NULL DEFAULT 'own';
ALTER TABLE images ADD COLUMN kind TEXT NOT NULL DEFAULT 'ordinary'
    CHECK (kind IN ('ordinary', 'sheet', 'avatar'));
CREATE INDEX ix_images_character_kind ON images (character_id, kind, id DESC);
