-- Several bot processes share one queue (PostgreSQL, issue 25): a running job, and a finished
-- one not yet posted, is held by one process (its worker name) until its lease runs out. The
-- holder renews the lease while it lives; another process takes over a job whose lease ran
-- out (its holder died) and finishes it, charged and posted once.
ALTER TABLE jobs ADD COLUMN worker TEXT;
ALTER TABLE jobs ADD COLUMN lease_until REAL;

-- Who started a job lately: each process keeps the others' starts in its fair order.
CREATE INDEX jobs_started ON jobs (started_at);

-- Pictures sent to OpenAI, when: the images-per-minute budget every process shares (the
-- account's rate limit is one, however many processes spend it). Rows older than the
-- window are deleted as new ones come.
CREATE TABLE image_spends (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    images INTEGER NOT NULL
);
CREATE INDEX image_spends_at ON image_spends (at);
