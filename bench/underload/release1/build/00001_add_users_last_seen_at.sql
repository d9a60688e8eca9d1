-- a nullable column without a default: a catalog change, no rewrite
ALTER TABLE users ADD COLUMN last_seen_at timestamptz;
