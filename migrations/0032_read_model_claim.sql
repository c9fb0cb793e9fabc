-- A live runner's claim of an event on its read model's tracking row, as an error rather than an
-- empty answer (issue 12).
--
-- The single-event apply sends its claim, the rows and COMMIT in one pipeline. With the claim
-- answering "no row" when the tracking row is already at or past the event (a catch-up or a
-- rebuild applied it), the runner had to read that answer before COMMIT: two round trips.
-- Raising instead aborts the transaction, rows and all, so the pipeline needs one round trip,
-- and the runner takes this SQLSTATE as "applied already".
CREATE FUNCTION read_model_claimed(claimed bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF claimed IS NULL THEN
        RAISE EXCEPTION 'the read model has applied this event already'
            USING ERRCODE = 'FFA01';
    END IF;
    RETURN claimed;
END
$$;
