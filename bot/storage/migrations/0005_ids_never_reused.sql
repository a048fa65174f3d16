-- Trust (issue #15): an id names one row forever, and references follow deletions.
--
-- * characters and images get AUTOINCREMENT, so deleting the newest row never frees its id
--   for someone else's next row (a queued job, a button or a re-post would then name a
--   stranger's picture). The sequences start above every id any row still mentions.
-- * Picture references are foreign keys that clear themselves: a character's main picture,
--   a picture's parent and a job's parent become NULL when that picture is deleted (the
--   storage layer then picks the character's next picture as its main one).
-- * characters.drawn: the character has had a picture of its own. Only a character that was
--   never drawn is removed with a job that failed (an empty name left by a refused request).
-- SQLite cannot change keys in place, so the three tables are rebuilt, ids kept.

-- The highest ids anything still mentions, before dangling mentions are cleared below: the
-- new sequences start above them.
CREATE TEMP TABLE seen_ids AS SELECT
    (SELECT MAX(v) FROM (
        SELECT MAX(id) AS v FROM characters
        UNION ALL SELECT MAX(forked_from_id) FROM characters
        UNION ALL SELECT MAX(character_id) FROM jobs
        UNION ALL SELECT MAX(CAST(json_extract(request_json, '$.varied_character_id') AS INTEGER))
                  FROM jobs)) AS characters,
    (SELECT MAX(v) FROM (
        SELECT MAX(id) AS v FROM images
        UNION ALL SELECT MAX(parent_image_id) FROM images
        UNION ALL SELECT MAX(parent_image_id) FROM jobs
        UNION ALL SELECT MAX(canonical_image_id) FROM characters
        UNION ALL SELECT MAX(image_id) FROM picture_posts
        UNION ALL SELECT MAX(image_id) FROM favorites)) AS images;

-- References to rows that no longer exist (possible before this migration) are cleared first.
UPDATE characters SET canonical_image_id = NULL
 WHERE canonical_image_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM images WHERE images.id = characters.canonical_image_id);
UPDATE characters SET forked_from_id = NULL
 WHERE forked_from_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM characters AS c WHERE c.id = characters.forked_from_id);
UPDATE images SET parent_image_id = NULL
 WHERE parent_image_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM images AS i WHERE i.id = images.parent_image_id);
UPDATE jobs SET parent_image_id = NULL
 WHERE parent_image_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM images WHERE images.id = jobs.parent_image_id);
-- A main picture is always one of the character's own (a fork used to start with the
-- original's); a character with pictures of its own falls back to its oldest one.
UPDATE characters SET canonical_image_id = (
    SELECT id FROM images WHERE images.character_id = characters.id ORDER BY id LIMIT 1)
 WHERE canonical_image_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM images WHERE images.id = characters.canonical_image_id
                   AND images.character_id = characters.id);

CREATE TABLE characters_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id           INTEGER NOT NULL,
    owner_id           INTEGER NOT NULL,
    name               TEXT    NOT NULL,
    sheet_json         TEXT    NOT NULL,
    style              TEXT    NOT NULL,
    canonical_image_id INTEGER REFERENCES images(id) ON DELETE SET NULL,
    forked_from_id     INTEGER REFERENCES characters(id) ON DELETE SET NULL,
    private            INTEGER NOT NULL DEFAULT 0,
    created_at         REAL    NOT NULL,
    drawn              INTEGER NOT NULL DEFAULT 0
);
INSERT INTO characters_new (id, guild_id, owner_id, name, sheet_json, style,
                            canonical_image_id, forked_from_id, private, created_at, drawn)
SELECT id, guild_id, owner_id, name, sheet_json, style, canonical_image_id, forked_from_id,
       private, created_at,
       EXISTS (SELECT 1 FROM images WHERE images.character_id = characters.id)
       OR EXISTS (SELECT 1 FROM jobs WHERE jobs.character_id = characters.id
                  AND jobs.state = 'done' AND jobs.charged = 1)
  FROM characters;
DROP TABLE characters;
ALTER TABLE characters_new RENAME TO characters;
CREATE INDEX ix_characters_guild_owner ON characters (guild_id, owner_id, name);
CREATE INDEX ix_characters_forked_from ON characters (forked_from_id);
CREATE INDEX ix_characters_canonical ON characters (canonical_image_id);

CREATE TABLE images_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    character_id    INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    owner_id        INTEGER NOT NULL,
    job_id          INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    parent_image_id INTEGER REFERENCES images(id) ON DELETE SET NULL,
    file_path       TEXT    NOT NULL,
    thumb_path      TEXT,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    mime            TEXT    NOT NULL,
    prompt          TEXT    NOT NULL,
    model           TEXT    NOT NULL,
    channel_id      INTEGER,
    message_id      INTEGER,
    favorite_count  INTEGER NOT NULL DEFAULT 0,
    created_at      REAL    NOT NULL
);
INSERT INTO images_new SELECT * FROM images;
DROP TABLE images;
ALTER TABLE images_new RENAME TO images;
CREATE INDEX ix_images_guild_new ON images (guild_id, id DESC);
CREATE INDEX ix_images_guild_favs ON images (guild_id, favorite_count DESC, id DESC);
CREATE INDEX ix_images_owner ON images (guild_id, owner_id, id DESC);
CREATE INDEX ix_images_character ON images (character_id, id DESC);
CREATE INDEX ix_images_message ON images (message_id);
CREATE INDEX ix_images_owner_favs ON images (guild_id, owner_id, favorite_count DESC, id DESC);
CREATE INDEX ix_images_character_favs ON images (character_id, favorite_count DESC, id DESC);
CREATE INDEX ix_images_parent ON images (parent_image_id);

CREATE TABLE jobs_new (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    channel_id         INTEGER NOT NULL,
    user_id            INTEGER NOT NULL,
    kind               TEXT    NOT NULL,               -- create | vary | reroll
    state              TEXT    NOT NULL DEFAULT 'queued', -- queued | running | done | failed | cancelled
    character_id       INTEGER REFERENCES characters(id) ON DELETE SET NULL,
    parent_image_id    INTEGER REFERENCES images(id) ON DELETE SET NULL,
    request_json       TEXT    NOT NULL,               -- what was asked: style, size, count, change, ...
    image_count        INTEGER NOT NULL,
    reference_path     TEXT,                           -- a member's uploaded reference, as PNG
    locale             TEXT    NOT NULL DEFAULT 'en-US',
    application_id     INTEGER,
    interaction_token  TEXT,                           -- lives 15 min; used to edit the member's message
    interaction_at     REAL,
    response_message_id INTEGER,
    attempts           INTEGER NOT NULL DEFAULT 0,
    not_before         REAL    NOT NULL DEFAULT 0,     -- backoff: not to run before this time
    error_code         TEXT,
    prompt             TEXT,
    model              TEXT,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cost_usd           REAL,
    charged            INTEGER NOT NULL DEFAULT 0,
    delivered          INTEGER NOT NULL DEFAULT 0,
    created_at         REAL    NOT NULL,
    started_at         REAL,
    finished_at        REAL
);
INSERT INTO jobs_new SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX ix_jobs_state ON jobs (state, id);
CREATE INDEX ix_jobs_guild_user_state ON jobs (guild_id, user_id, state);
CREATE INDEX ix_jobs_guild_created ON jobs (guild_id, created_at);
CREATE INDEX ix_jobs_character ON jobs (character_id);
CREATE INDEX ix_jobs_parent ON jobs (parent_image_id);

-- Never hand out an id that something may still remember (a button, a gallery option).
DELETE FROM sqlite_sequence WHERE name IN ('characters', 'images');
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'characters', COALESCE(characters, 0) FROM seen_ids;
INSERT INTO sqlite_sequence (name, seq) SELECT 'images', COALESCE(images, 0) FROM seen_ids;
DROP TABLE seen_ids;
