-- The whole data model. Times are Unix seconds (REAL) in UTC.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per server that changed a setting; absent means the defaults.
CREATE TABLE guild_config (
    guild_id          INTEGER PRIMARY KEY,
    allowed_channels  TEXT    NOT NULL DEFAULT '[]',  -- JSON list of channel ids; empty = anywhere
    default_style     TEXT,
    default_size      TEXT,
    max_count         INTEGER NOT NULL DEFAULT 4,
    model_tier        TEXT    NOT NULL DEFAULT 'standard',
    allow_forks       INTEGER NOT NULL DEFAULT 1,
    favorite_emoji    TEXT    NOT NULL DEFAULT '⭐',
    gallery_public    INTEGER NOT NULL DEFAULT 1,
    alert_channel_id  INTEGER,
    updated_at        REAL
);

CREATE TABLE characters (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    owner_id           INTEGER NOT NULL,
    name               TEXT    NOT NULL,
    sheet_json         TEXT    NOT NULL,
    style              TEXT    NOT NULL,
    canonical_image_id INTEGER,
    forked_from_id     INTEGER REFERENCES characters(id) ON DELETE SET NULL,
    private            INTEGER NOT NULL DEFAULT 0,
    created_at         REAL    NOT NULL
);
CREATE INDEX ix_characters_guild_owner ON characters (guild_id, owner_id, name);

-- An image request. It reserves quota while queued/running; 'charged' marks the commit.
CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    channel_id         INTEGER NOT NULL,
    user_id            INTEGER NOT NULL,
    kind               TEXT    NOT NULL,               -- create | vary | reroll
    state              TEXT    NOT NULL DEFAULT 'queued', -- queued | running | done | failed | cancelled
    character_id       INTEGER REFERENCES characters(id) ON DELETE CASCADE,
    parent_image_id    INTEGER,
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
CREATE INDEX ix_jobs_state ON jobs (state, id);
CREATE INDEX ix_jobs_guild_user_state ON jobs (guild_id, user_id, state);
CREATE INDEX ix_jobs_guild_created ON jobs (guild_id, created_at);

CREATE TABLE images (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    character_id    INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    owner_id        INTEGER NOT NULL,
    job_id          INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    parent_image_id INTEGER,
    file_path       TEXT    NOT NULL,                 -- relative to DATA_DIR/images
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
CREATE INDEX ix_images_guild_new ON images (guild_id, id DESC);
CREATE INDEX ix_images_guild_favs ON images (guild_id, favorite_count DESC, id DESC);
CREATE INDEX ix_images_owner ON images (guild_id, owner_id, id DESC);
CREATE INDEX ix_images_character ON images (character_id, id DESC);
CREATE INDEX ix_images_message ON images (message_id);

CREATE TABLE favorites (
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (image_id, user_id)
) WITHOUT ROWID;

-- Admin limits. scope: member | role | server; target_id 0 for the server.
CREATE TABLE quota_limits (
    guild_id      INTEGER NOT NULL,
    scope         TEXT    NOT NULL,
    target_id     INTEGER NOT NULL,
    daily_limit   INTEGER,
    hourly_limit  INTEGER,
    pending_cap   INTEGER,
    PRIMARY KEY (guild_id, scope, target_id)
);

-- Alerts already sent, so admins hear of a problem once, not once per job.
CREATE TABLE alerts_sent (
    guild_id INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    sent_at  REAL    NOT NULL,
    PRIMARY KEY (guild_id, kind)
);
