CREATE TABLE message_takedowns (
    message_id BIGINT PRIMARY KEY,
    channel_id BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX message_takedowns_due ON message_takedowns (not_before);
