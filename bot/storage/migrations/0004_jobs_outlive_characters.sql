-- Jobs outlive their character: deleting a character must not delete the jobs that
-- counted against quotas (that would hand the quota back) or the usage history.
-- SQLite cannot change a foreign key in place, so the table is rebuilt.

CREATE TABLE jobs_new (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    channel_id         INTEGER NOT NULL,
    user_id            INTEGER NOT NULL,
    kind               TEXT    NOT NULL,               -- create | vary | reroll
    state              TEXT    NOT NULL DEFAULT 'queued', -- queued | running | done | failed | cancelled
    character_id       INTEGER REFERENCES characters(id) ON DELETE SET NULL,
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

INSERT INTO jobs_new SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;

CREATE INDEX ix_jobs_state ON jobs (state, id);
CREATE INDEX ix_jobs_guild_user_state ON jobs (guild_id, user_id, state);
CREATE INDEX ix_jobs_guild_created ON jobs (guild_id, created_at);
