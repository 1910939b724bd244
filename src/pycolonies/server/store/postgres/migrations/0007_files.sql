-- ColonyFS metadata (protocol ext/50-files-snapshots.md): the catalogue of files whose contents
-- live in an object store, and snapshots of label trees; the same tables as the SQLite backend's
-- 0007_files.sql. Both are removed with their colony. Labels and names compare bytewise
-- (COLLATE "C"), as on SQLite, whatever the database's locale: label prefixes are then index
-- ranges, and listings sort alike on both backends.

-- One row per version of a file. sequencenr is one global sequence across all colonies (the
-- identity: strictly increasing, never reused). ref is the Reference JSON as the client sent it;
-- added is the registration time (Unix ns).
CREATE TABLE files (
    sequencenr   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fileid       TEXT NOT NULL UNIQUE,
    colonyname   TEXT NOT NULL,
    label        TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    size         BIGINT NOT NULL,
    checksum     TEXT NOT NULL,
    checksumalg  TEXT NOT NULL,
    ref          TEXT NOT NULL,
    added        BIGINT NOT NULL
);
-- Versions of a name (newest = highest sequencenr), the latest of each name under a label, and
-- label listings (label prefixes are range scans within the colony).
CREATE INDEX files_by_name ON files (colonyname, label, name, sequencenr);

-- fileids is the JSON array of the latest versions' ids at creation time, or 'null' for none.
-- The unique name makes creation atomic: of two concurrent creations one finds the name taken.
CREATE TABLE snapshots (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    snapshotid   TEXT NOT NULL UNIQUE,
    colonyname   TEXT NOT NULL,
    name         TEXT NOT NULL,
    label        TEXT NOT NULL,
    fileids      TEXT NOT NULL,
    added        BIGINT NOT NULL,
    UNIQUE (colonyname, name)
);
CREATE INDEX snapshots_by_added ON snapshots (colonyname, added);
