-- A business's logo (API.md "Business": PUT|DELETE /business/logo), issue 17.
--
-- The Business aggregate records which logo is current (LogoChanged: its SHA-256, type and
-- size; LogoRemoved); the pixels are too big for an event and live here, one row per image
-- a business ever uploaded, keyed by its digest. Rows are written before the event and never
-- changed: an upload whose event was not recorded leaves a row no business points at, which
-- shows nowhere. The current logo is the row rm_business.logo_sha256 names.
CREATE TABLE business_logos (
    business_id uuid NOT NULL,
    sha256 text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    content bytea NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, sha256)
);

ALTER TABLE rm_business
    ADD COLUMN logo_sha256 text,
    ADD COLUMN logo_content_type text,
    ADD COLUMN logo_width integer,
    ADD COLUMN logo_height integer;
