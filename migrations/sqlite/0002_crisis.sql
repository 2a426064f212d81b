-- The crisis path: cases for psychologists, what was said in them, and staff invitations.
-- Times are UTC milliseconds since the Unix epoch.

-- The name a staff member signs relayed messages with; parents have none.
ALTER TABLE users ADD COLUMN display_name TEXT;

-- A parent's case. When the parent erases their data, parent_id becomes NULL and the
-- signals go: priority, times and outcome stay, anonymous, for statistics.
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- 1 normal, 2 high, 3 imminent: sorts the queue.
    priority        BIGINT  NOT NULL,
    child_safety    BIGINT  NOT NULL DEFAULT 0,
    -- What the detector found, for the psychologist; never message text.
    signals         TEXT,
    opened_at       BIGINT  NOT NULL,
    psychologist_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    taken_at        BIGINT,
    closed_at       BIGINT,
    outcome         TEXT,
    rating          BIGINT
);
CREATE INDEX cases_open ON cases (priority, opened_at) WHERE closed_at IS NULL;
-- One open case per parent at a time.
CREATE UNIQUE INDEX cases_one_open ON cases (parent_id) WHERE closed_at IS NULL;

-- What the parent and the psychologist wrote in a case: the psychologist reads it when
-- taking the case. Erased with the parent.
CREATE TABLE case_messages (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id   BIGINT  NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    from_parent BIGINT NOT NULL,
    text      TEXT    NOT NULL,
    at        BIGINT  NOT NULL
);
CREATE INDEX case_messages_case ON case_messages (case_id, id);

CREATE TABLE invites (
    code       TEXT   PRIMARY KEY,
    role       TEXT   NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    used_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    used_at    BIGINT
);
