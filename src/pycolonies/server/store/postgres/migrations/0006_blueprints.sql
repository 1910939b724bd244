-- Blueprints (protocol ext/20-blueprints.md): definitions and blueprints as their wire documents
-- (text: key order is part of the wire form) plus the indexed columns the lookups need; the same
-- tables as the SQLite backend's 0006_blueprints.sql. Names sort bytewise (COLLATE "C"), as on
-- SQLite, whatever the database's locale. Neither is removed with its colony (as upstream).

CREATE TABLE blueprint_definitions (
    definitionid  TEXT PRIMARY KEY,
    colonyname    TEXT NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    kind          TEXT NOT NULL,     -- spec.names.kind
    document      TEXT NOT NULL,
    UNIQUE (colonyname, name)
);
CREATE INDEX blueprint_definitions_by_kind ON blueprint_definitions (colonyname, kind, name);

CREATE TABLE blueprints (
    blueprintid   TEXT PRIMARY KEY,
    colonyname    TEXT NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    kind          TEXT NOT NULL,
    locationname  TEXT NOT NULL,     -- metadata.locationname as sent
    document      TEXT NOT NULL,
    UNIQUE (colonyname, name)
);
CREATE INDEX blueprints_by_kind ON blueprints (colonyname, kind, name);

-- Audit trail of creates and spec changes, kept after the blueprint is removed (as upstream).
CREATE TABLE blueprint_history (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    historyid    TEXT PRIMARY KEY,
    blueprintid  TEXT NOT NULL,
    ts           BIGINT NOT NULL,
    document     TEXT NOT NULL
);
CREATE INDEX blueprint_history_by_blueprint ON blueprint_history (blueprintid, ts);
