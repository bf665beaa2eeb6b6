-- Arca attribute database, schema version 4 (from version 3): devices approve each other.

-- This copy's own sync signing key (Ed25519, see docs/formats/sync.md "Devices"): made on its
-- first sync, it never leaves the device. Its name is what the other devices show.
CREATE TABLE sync_identity (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    signing_key BLOB NOT NULL,
    name        TEXT NOT NULL
);

-- The devices this copy trusts without a record on the target: itself when it set the target
-- up, the devices a sync configuration named as approved, and (for a copy that synced before
-- devices signed) every device it already held operations of, whose first published key it
-- takes (public_key NULL until then).
CREATE TABLE sync_anchors (
    device     BLOB PRIMARY KEY,
    public_key BLOB
);

-- Every signed device record this copy has verified (requests, approvals, removals), kept so
-- that it is sent again if the target loses it: name on the target, then the signed bytes.
CREATE TABLE sync_records (
    name   TEXT PRIMARY KEY,
    signed BLOB NOT NULL
);

INSERT INTO sync_anchors (device)
    SELECT DISTINCT device_id FROM operations WHERE EXISTS (SELECT 1 FROM sync_target)
    UNION SELECT device_id FROM device WHERE EXISTS (SELECT 1 FROM sync_target);
