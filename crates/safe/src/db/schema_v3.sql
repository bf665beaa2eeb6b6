-- Arca attribute database, schema version 3 (from version 2): sync between devices.

-- Sync recomputes an item, tag or tag assignment from every operation on it.
CREATE INDEX operations_entity ON operations (entity_id);
-- Items deleted for good, whose data a synced Safe keeps until every device has seen the
-- delete: looked up at every sync, so kept apart from the whole log.
CREATE INDEX operations_item_deletes ON operations (entity_id) WHERE entity = 'item' AND action = 'delete';

-- Where this copy of the Safe syncs to (one target): its kind ('folder') and its settings
-- (JSON), set by this device only; they never leave it.
CREATE TABLE sync_target (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    kind      TEXT NOT NULL,
    settings  TEXT NOT NULL,
    last_run  INTEGER
);

-- What sync had to decide for the person: two devices changed the same thing, or a change
-- could not be kept as it was made. Shown in the conflict view until dismissed.
CREATE TABLE sync_conflicts (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    item   BLOB,
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL
);

-- How far this copy's own operations have been uploaded (by this database): an upload of this
-- device's beyond it, found on the target, was made by a copy restored from an older state.
CREATE TABLE sync_progress (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    sent_through INTEGER NOT NULL
);
