-- The sandbox outbox (sandbox_messages), as GET /api/v1/sandbox/messages lists it.

-- name: list_sandbox_messages
-- $2: invoice id or NULL; newest first.
SELECT * FROM sandbox_messages
WHERE business_id = $1 AND ($2::uuid IS NULL OR invoice_id = $2)
ORDER BY created_at DESC, id DESC
LIMIT $3 OFFSET $4;

-- name: count_sandbox_messages
SELECT count(*) FROM sandbox_messages
WHERE business_id = $1 AND ($2::uuid IS NULL OR invoice_id = $2);
