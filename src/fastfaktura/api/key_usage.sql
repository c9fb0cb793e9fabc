-- When each key was last used (api/key_usage.py): operational, not a read model.

-- name: record_key_use
-- Never moves a last use backwards (two processes may write out of order).
INSERT INTO api_key_usage (key_prefix, last_used_at) VALUES ($1, $2)
ON CONFLICT (key_prefix) DO UPDATE SET last_used_at = EXCLUDED.last_used_at
WHERE api_key_usage.last_used_at < EXCLUDED.last_used_at;
