-- Read models of the foundation (business, API keys, clients) and their tracking tables.
-- Tracking tables use eventsourcing's single-row layout: one row per upstream application,
-- written in the same transaction as the read-model rows (exactly-once effects).
-- Index names are not referenced anywhere: a rebuild recreates tables with generated names.

CREATE TABLE rm_business (
    business_id uuid PRIMARY KEY,
    name text NOT NULL,
    mode text NOT NULL,
    legal_name text,
    email text,
    phone text,
    address text,
    country text,
    vat_number text,
    company_id text,
    iban text,
    bic text,
    currency text NOT NULL,
    locale text NOT NULL,
    payment_terms_days integer NOT NULL,
    invoice_prefix text NOT NULL,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE rm_api_keys (
    key_hash text PRIMARY KEY,
    business_id uuid NOT NULL,
    key_prefix text NOT NULL UNIQUE,
    mode text NOT NULL,
    issued_at timestamptz NOT NULL,
    revoked_at timestamptz,
    version bigint NOT NULL
);
CREATE INDEX ON rm_api_keys (business_id, issued_at);

CREATE TABLE rm_clients (
    business_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL,
    email text,
    phone text,
    address text,
    country text,
    locale text NOT NULL,
    external_id text,
    tags text[] NOT NULL,
    vat_number text,
    company_id text,
    archived_at timestamptz,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (business_id, id)
);
CREATE INDEX ON rm_clients (business_id, lower(name), id);

CREATE TABLE business_tracking (application_name text PRIMARY KEY, notification_id bigint);
CREATE TABLE api_keys_tracking (application_name text PRIMARY KEY, notification_id bigint);
CREATE TABLE clients_tracking (application_name text PRIMARY KEY, notification_id bigint);
