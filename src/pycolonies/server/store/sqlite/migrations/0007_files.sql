-- ColonyFS metadata (protocol ext/50-files-snapshots.md): the catalogue of files whose contents
-- live in an object store, and snapshots of label trees. Both are removed with their colony.

-- One row per version of a file. sequencenr is one global sequence across all colonies:
-- AUTOINCREMENT makes it strictly increasing and never reuses a number, even after removals.
-- ref is the Reference JSON as the client sent it; added is the registration time (Unix ns).
CREATE TABLE files (
    sequencenr   INTEGER PRIMARY KEY AUTOINCREMENT,
    fileid       TEXT NOT NULL UNIQUE,
    colonyname   TEXT NOT NULL,
    label        TEXT NOT NULL,
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    checksum     TEXT NOT NULL,
    checksumalg  TEXT NOT NULL,
    ref          TEXT NOT NULL,
    added        INTEGER NOT NULL
);
-- Versions of a name (newest = highest sequencenr), the latest of each name under a label, and
-- label listings (label prefixes are range scans within the colony).
CREATE INDEX files_by_name ON files (colonyname, label, name, sequencenr);

-- fileids is the JSON array of the latest versions' ids at creation time, or 'null' for none.
-- The unique name makes creation atomic: of two concurrent creations one finds the name taken.
CREATE TABLE snapshots (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    snapshotid   TEXT NOT NULL UNIQUE,
    colonyname   TEXT NOT NULL,
    name         TEXT NOT NULL,
    label        TEXT NOT NULL,
    fileids      TEXT NOT NULL,
    added        INTEGER NOT NULL,
    UNIQUE (colonyname, name)
);
CREATE INDEX snapshots_by_added ON snapshots (colonyname, added);
