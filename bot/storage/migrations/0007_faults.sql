-- The values a failed job's message needs ({reference}, ...), as JSON, so a notice sent
-- after a restart says the same as the one the member would have read at the time.
ALTER TABLE jobs ADD COLUMN error_values TEXT;
