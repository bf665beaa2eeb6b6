-- Arca attribute database, schema version 1. Times are nanoseconds since the Unix epoch (UTC).

-- This copy of the Safe: its device UUID and its vector clock (JSON object: device UUID ->
-- highest sequence number of that device's operations applied here).
CREATE TABLE device (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    device_id BLOB NOT NULL,
    clock     TEXT NOT NULL
);

-- Files and folders. `parent` NULL means the item is at the root of the Safe.
CREATE TABLE items (
    id          BLOB PRIMARY KEY NOT NULL,
    parent      BLOB REFERENCES items (id),
    kind        TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    name        TEXT NOT NULL,
    -- The name in Unicode NFC: two names that differ only in normalisation clash.
    name_key    TEXT NOT NULL,
    size        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER,
    modified_at INTEGER,
    added_at    INTEGER NOT NULL,
    trashed_at  INTEGER,
    favorite    INTEGER NOT NULL DEFAULT 0 CHECK (favorite IN (0, 1)),
    comment     TEXT NOT NULL DEFAULT '',
    -- Folders: 'none'. Files: 'pending' until their data file is durable, then 'present';
    -- 'missing' when check found the data file gone or damaged.
    content     TEXT NOT NULL CHECK (content IN ('none', 'pending', 'present', 'missing')),
    -- The data file's trailing HMAC tag and the cleartext's SHA-256, once present.
    hmac_tag    BLOB,
    sha256      BLOB
);
CREATE UNIQUE INDEX items_live_name ON items (ifnull(parent, x''), name_key) WHERE trashed_at IS NULL;
CREATE INDEX items_parent ON items (parent);
CREATE INDEX items_trashed ON items (trashed_at) WHERE trashed_at IS NOT NULL;
CREATE INDEX items_favorite ON items (favorite) WHERE favorite = 1;

CREATE TABLE tags (
    id   BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE item_tags (
    item BLOB NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag  BLOB NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (item, tag)
) WITHOUT ROWID;
CREATE INDEX item_tags_tag ON item_tags (tag);

-- Full-text search over names, comments and tags; rowid = items.rowid.
CREATE VIRTUAL TABLE item_search USING fts5 (
    name, comment, tags,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

-- The transaction log: every change, in the same transaction as the change itself. Sync
-- replays these between devices, ordered by vector clock.
CREATE TABLE operations (
    device_id BLOB NOT NULL,
    seq       INTEGER NOT NULL,
    op_id     BLOB NOT NULL UNIQUE,
    -- JSON object: device UUID -> highest sequence number of that device seen.
    clock     TEXT NOT NULL,
    at        INTEGER NOT NULL,
    entity    TEXT NOT NULL CHECK (entity IN ('item', 'tag', 'item_tag')),
    entity_id BLOB NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    -- JSON object of the entity's new field values.
    fields    TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;

-- Import jobs: phase 1 records the work list, phase 2 fills in the data files.
CREATE TABLE import_jobs (
    id         BLOB PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('running', 'paused', 'cancelled', 'done'))
);
CREATE TABLE import_entries (
    job    BLOB NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    -- Not a foreign key: a file that failed is removed from items but stays listed here.
    item   BLOB NOT NULL,
    -- The source file's path as the OS gave it (bytes on Unix).
    source BLOB NOT NULL,
    state  TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    error  TEXT,
    PRIMARY KEY (job, item)
) WITHOUT ROWID;
