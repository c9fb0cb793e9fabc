-- The invoices read model records whether each invoice was ever sent, so a read (its PDF, its
-- public page) need not load the aggregate: a cancelled invoice's status alone cannot tell
-- (a draft may be cancelled unsent).
ALTER TABLE rm_invoices ADD COLUMN was_sent boolean NOT NULL DEFAULT false;
-- Invoices already projected: as a rebuild would compute it. Every status but draft and
-- cancelled follows a send; a cancelled one was sent when its stream holds `Invoice.Sent`.
UPDATE rm_invoices SET was_sent = status NOT IN ('draft', 'cancelled') OR (
    status = 'cancelled' AND EXISTS (
        SELECT 1 FROM invoicing_events
        WHERE originator_id = rm_invoices.id AND topic = 'fastfaktura:Invoice.Sent'
    )
);
