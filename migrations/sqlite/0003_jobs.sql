-- Scheduled work: it survives restarts and runs once, however many replicas poll it.
-- A worker claims a run by moving due_at forward in the same transaction as the work
-- (compare-and-set on due_at), so a second replica finds nothing due.
-- Times are UTC milliseconds since the Unix epoch.
CREATE TABLE jobs (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'sla': remind every psychologist and admin that a case is still unclaimed.
    kind    TEXT   NOT NULL,
    case_id BIGINT REFERENCES cases (id) ON DELETE CASCADE,
    due_at  BIGINT NOT NULL,
    -- How many times it has run.
    runs    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_due ON jobs (due_at);
CREATE UNIQUE INDEX jobs_one_per_case ON jobs (kind, case_id);

-- Whether a psychologist is on duty: new cases go to those on duty (to every
-- psychologist when nobody is); reminders of unclaimed cases go to everyone.
ALTER TABLE users ADD COLUMN on_duty BIGINT NOT NULL DEFAULT 1;
