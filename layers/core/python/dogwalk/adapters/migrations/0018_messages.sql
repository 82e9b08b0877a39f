-- Owner–walker conversations: one per pair, started by the owner; their messages, kept (a deleted
-- account's texts are blanked, the rows stay), each party's unread count and a block by either.

CREATE TABLE conversations (
    id              uuid PRIMARY KEY,
    owner_id        uuid NOT NULL REFERENCES users (id),
    walker_id       uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz,
    -- the list's order: the last message, or the start while there is none
    activity_at     timestamptz NOT NULL DEFAULT now(),
    -- what each party has not read yet (the sender's counterpart goes up on every message)
    owner_unread    integer NOT NULL DEFAULT 0 CHECK (owner_unread >= 0),
    walker_unread   integer NOT NULL DEFAULT 0 CHECK (walker_unread >= 0),
    -- a block by either party stops messages both ways, for good
    blocked_at      timestamptz,
    blocked_by      uuid REFERENCES users (id),
    CHECK (owner_id <> walker_id),
    CHECK ((blocked_at IS NULL) = (blocked_by IS NULL)),
    -- one conversation per pair: concurrent first starts meet here
    UNIQUE (owner_id, walker_id)
);
CREATE INDEX conversations_by_owner_activity ON conversations (owner_id, activity_at DESC, id DESC);
CREATE INDEX conversations_by_walker_activity ON conversations (walker_id, activity_at DESC, id DESC);

CREATE TABLE messages (
    id              uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    sender_id       uuid NOT NULL REFERENCES users (id),
    text            text NOT NULL,
    -- a walk photo (another issue's); accepted by the schema, refused until photos exist
    photo_id        uuid,
    -- set when the sender's account was deleted: the text is blanked, the row stays in the thread
    erased          boolean NOT NULL DEFAULT false,
    -- clock_timestamp: messages sent in one transaction still get their own order
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (erased OR char_length(text) BETWEEN 1 AND 2000),
    CHECK (NOT erased OR (text = '' AND photo_id IS NULL))
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at DESC, id DESC);
CREATE INDEX messages_by_sender ON messages (sender_id) WHERE NOT erased;
