ALTER TABLE jobs ADD COLUMN error_values TEXT;
