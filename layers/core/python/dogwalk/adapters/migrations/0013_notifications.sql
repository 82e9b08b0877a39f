-- Notifications: the in-app inbox, each delivery once per (event, recipient, channel), the
-- devices push goes to, and each user's channel preferences and quiet hours.
CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at DESC, id DESC);

CREATE TABLE notification_deliveries (
    event_id     uuid NOT NULL,
    recipient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel      text NOT NULL CHECK (channel IN ('push', 'email', 'sms', 'inbox')),
    status       text NOT NULL CHECK (status IN ('sending', 'sent', 'delayed', 'skipped', 'failed')),
    due_at       timestamptz,                   -- a delayed one: when its recipient's quiet hours end
    event        jsonb,                         -- a delayed one: the event, to send it then
    detail       text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, recipient_id, channel)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (due_at) WHERE status = 'delayed';

CREATE TABLE devices (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform     text NOT NULL CHECK (platform IN ('fcm', 'apns')),
    token        text NOT NULL UNIQUE CHECK (length(token) BETWEEN 1 AND 4096),
    endpoint_arn text,                          -- its SNS platform endpoint
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_by_user ON devices (user_id);

CREATE TABLE notification_preferences (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    channels    jsonb NOT NULL DEFAULT '{}',    -- event type → channels; absent: the defaults
    quiet_start time,
    quiet_end   time,
    timezone    text NOT NULL DEFAULT 'UTC',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
