-- People, conversations, the inbox and outbox, and the audit log.
-- Times are UTC milliseconds since the Unix epoch.

CREATE TABLE users (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel            TEXT    NOT NULL,
    external_id        TEXT    NOT NULL,
    language           TEXT,
    role               TEXT    NOT NULL DEFAULT 'parent',
    pseudonym          TEXT    NOT NULL UNIQUE,
    consent_at         BIGINT,
    consent_refused_at BIGINT,
    created_at         BIGINT  NOT NULL,
    UNIQUE (channel, external_id)
);

CREATE TABLE conversations (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE inbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     TEXT   NOT NULL,
    external_id TEXT   NOT NULL,
    chat        TEXT   NOT NULL,
    event       TEXT,
    received_at BIGINT NOT NULL,
    handled_at  BIGINT,
    UNIQUE (channel, external_id)
);
CREATE INDEX inbox_pending ON inbox (channel, chat, id) WHERE handled_at IS NULL;

CREATE TABLE outbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     TEXT   NOT NULL,
    chat        TEXT   NOT NULL,
    message     TEXT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL,
    lease_until BIGINT,
    failed_at   BIGINT,
    last_error  TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX outbox_queue ON outbox (channel, chat, id) WHERE failed_at IS NULL;

CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_id   BIGINT,
    subject_id BIGINT,
    action     TEXT   NOT NULL
);
