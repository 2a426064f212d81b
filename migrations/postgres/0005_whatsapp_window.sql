-- WhatsApp lets a business write freely only within 24 hours of the person's last
-- message (the customer-service window). The inbox keeps when each message was sent,
-- by the messenger's own clock (a redelivery days later does not reopen the window),
-- and a message written while the window is closed waits in the outbox (held_at) until
-- the person writes again.
ALTER TABLE inbox ADD COLUMN sent_at BIGINT;
CREATE INDEX inbox_chat ON inbox (channel, chat);
ALTER TABLE outbox ADD COLUMN held_at BIGINT;
