-- Money (issue #16): every accepted job reserves its estimated cost against the server's
-- dollar budgets while it waits or runs; it settles to the measured cost (cost_usd) when it
-- is delivered and is released when it fails or is cancelled.
ALTER TABLE jobs ADD COLUMN reserved_usd REAL;
