-- Estimated-dollar budgets for a whole server, and who last changed a limit.
-- Only the 'server' row uses the dollar columns; NULL means no budget of that kind.
ALTER TABLE quota_limits ADD COLUMN daily_usd REAL;
ALTER TABLE quota_limits ADD COLUMN monthly_usd REAL;
ALTER TABLE quota_limits ADD COLUMN updated_by INTEGER;
ALTER TABLE quota_limits ADD COLUMN updated_at REAL;

