-- One aggregate's stream, read from the event store itself (asyncpg): not a read model. The
-- timeline (GET /invoices/{id} and /events) decodes it through the application's mapper.

-- name: aggregate_stream
SELECT originator_id, originator_version, topic, state
FROM invoicing_events WHERE originator_id = $1 ORDER BY originator_version;
