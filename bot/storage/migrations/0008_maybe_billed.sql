-- Money (issue #16): a request that timed out may still have been billed by OpenAI. Each
-- such attempt adds the job's estimate here, and it counts against the dollar budgets
-- whatever the job's end (the usage report still shows only what was delivered).
ALTER TABLE jobs ADD COLUMN maybe_billed_usd REAL NOT NULL DEFAULT 0;
