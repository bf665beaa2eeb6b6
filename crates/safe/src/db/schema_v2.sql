-- Arca attribute database, schema version 2 (from version 1).

-- Tags and hashes as the bytes they are (version 1 stored their hex text in BLOB columns).
UPDATE items SET hmac_tag = unhex(hmac_tag) WHERE typeof(hmac_tag) = 'text';
UPDATE items SET sha256 = unhex(sha256) WHERE typeof(sha256) = 'text';

-- Per-MiB SHA-256 hashes of a data file, for reading any part of it without a pass over the
-- whole file: chunk k covers the data file's bytes [k MiB, (k + 1) MiB), and `hashes` holds the
-- 32-byte hashes of every chunk in order. `hmac_tag` is the tag of the data file they were
-- computed from; hashes of another version are ignored.
CREATE TABLE data_chunks (
    item     BLOB PRIMARY KEY NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    hmac_tag BLOB NOT NULL,
    hashes   BLOB NOT NULL
) WITHOUT ROWID;

-- A file's content being replaced in place: written before the new data file is renamed over
-- the old one, removed in the transaction that records the new content. Found at the next
-- unlock, it is finished (the new file is in place) or forgotten (it is not).
CREATE TABLE content_replacements (
    item        BLOB PRIMARY KEY NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    size        INTEGER NOT NULL,
    modified_at INTEGER,
    hmac_tag    BLOB NOT NULL,
    sha256      BLOB NOT NULL,
    hashes      BLOB NOT NULL
) WITHOUT ROWID;

-- Import entries, rebuilt for a new state and two columns:
-- - `removed`: the person deleted the file from the Safe before its import finished; it is
--   left out, and is not a failure (version 1 recorded it as failed with this sentence).
-- - `problem`: the kind of problem of a failed entry (a ProblemKind by its JSON name,
--   `changed_since_scan`), so the job's report keeps it, also when resumed by another process.
-- - `device`, `inode`: the source file phase 1 recorded; phase 2 encrypts only that file, not
--   whatever was put at its path meanwhile.
CREATE TABLE import_entries_v2 (
    job     BLOB NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    -- Not a foreign key: a file that failed is removed from items but stays listed here.
    item    BLOB NOT NULL,
    -- The source file's path as the OS gave it (bytes on Unix).
    source  BLOB NOT NULL,
    state   TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed', 'removed')),
    error   TEXT,
    problem TEXT,
    device  INTEGER,
    inode   INTEGER,
    PRIMARY KEY (job, item)
) WITHOUT ROWID;
INSERT INTO import_entries_v2 (job, item, source, state, error)
    SELECT job, item, source,
           CASE WHEN state = 'failed' AND error = 'removed from the Safe before it was imported'
                THEN 'removed' ELSE state END,
           error
    FROM import_entries;
DROP TABLE import_entries;
ALTER TABLE import_entries_v2 RENAME TO import_entries;
-- What the person chose to import (a JSON array of paths, for showing an interrupted job).
ALTER TABLE import_jobs ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';

-- Pages of a folder sorted by each key, folders and files apart, and recent items.
CREATE INDEX items_by_name ON items (ifnull(parent, x''), kind, name_key) WHERE trashed_at IS NULL;
CREATE INDEX items_by_size ON items (ifnull(parent, x''), kind, size, name_key) WHERE trashed_at IS NULL;
CREATE INDEX items_by_modified ON items (ifnull(parent, x''), kind, modified_at, name_key)
    WHERE trashed_at IS NULL;
CREATE INDEX items_added ON items (added_at);

-- How many live (not trashed) files and folders each folder holds directly (the root is x''),
-- kept by triggers in the same transaction as the change: a page's total is a lookup, not a
-- count of a folder that may hold a million items.
CREATE TABLE child_counts (
    parent BLOB NOT NULL,
    kind   TEXT NOT NULL,
    live   INTEGER NOT NULL,
    PRIMARY KEY (parent, kind)
) WITHOUT ROWID;
INSERT INTO child_counts
    SELECT ifnull(parent, x''), kind, count(*) FROM items WHERE trashed_at IS NULL GROUP BY 1, 2;
CREATE TRIGGER child_counts_insert AFTER INSERT ON items WHEN NEW.trashed_at IS NULL BEGIN
    INSERT INTO child_counts VALUES (ifnull(NEW.parent, x''), NEW.kind, 1)
        ON CONFLICT (parent, kind) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER child_counts_delete AFTER DELETE ON items WHEN OLD.trashed_at IS NULL BEGIN
    UPDATE child_counts SET live = live - 1
        WHERE parent = ifnull(OLD.parent, x'') AND kind = OLD.kind;
END;
CREATE TRIGGER child_counts_update AFTER UPDATE OF parent, kind, trashed_at ON items BEGIN
    UPDATE child_counts SET live = live - 1
        WHERE OLD.trashed_at IS NULL AND parent = ifnull(OLD.parent, x'') AND kind = OLD.kind;
    INSERT INTO child_counts SELECT ifnull(NEW.parent, x''), NEW.kind, 1 WHERE NEW.trashed_at IS NULL
        ON CONFLICT (parent, kind) DO UPDATE SET live = live + 1;
END;

-- Search results in name order without sorting every match: the whole Safe by name.
CREATE INDEX items_by_name_anywhere ON items (name_key);
