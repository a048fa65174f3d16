-- Scenes (issue #22): members' characters meet in one picture.
--
-- * A scene is one job's pictures, stored once: its images rows carry scene_id, and their
--   character_id names one character of the scene (the first still in it) so they follow
--   the usual rules for visibility and deletion. Every character in it is linked through
--   scene_characters, in the order the prompt named them.
-- * scene_characters.hidden: the character's owner removed the scene from that
--   character's listings (card count, gallery filter); the scene itself stays.
-- * characters.scenes_allowed: the owner lets others put this character in their scenes
--   (a private character is never used by others, whatever this says).
-- * guild_config.scenes: 'off', 'own' (members use only their own characters) or 'any'
--   (any public, opted-in character).

CREATE TABLE scenes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    maker_id    INTEGER NOT NULL,
    job_id      INTEGER UNIQUE REFERENCES jobs(id) ON DELETE SET NULL,
    created_at  REAL    NOT NULL
);
CREATE INDEX ix_scenes_guild ON scenes (guild_id, id);

CREATE TABLE scene_characters (
    scene_id     INTEGER NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
    character_id INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    hidden       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scene_id, character_id)
) WITHOUT ROWID;
CREATE INDEX ix_scene_characters_character ON scene_characters (character_id, scene_id);

ALTER TABLE images ADD COLUMN scene_id INTEGER REFERENCES scenes(id) ON DELETE SET NULL;
CREATE INDEX ix_images_scene ON images (scene_id) WHERE scene_id IS NOT NULL;

ALTER TABLE characters ADD COLUMN scenes_allowed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE guild_config ADD COLUMN scenes TEXT NOT NULL DEFAULT 'own';
