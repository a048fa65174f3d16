-- Deleting a picture, a character or a member's data takes its messages off Discord too.
-- The deletion queues them here in its own transaction; the bot deletes each message and
-- forgets its row, or tries again later (Discord or the network failing). A stop or a crash
-- in between leaves the rows, and the next start finishes the job.
CREATE TABLE message_takedowns (
    message_id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0
);
CREATE INDEX message_takedowns_due ON message_takedowns (not_before);
