-- Blueprints (protocol ext/20-blueprints.md): definitions (the kinds a colony knows, with their
-- schema and handler) and blueprints (desired state in spec, observed state in status). Each is
-- kept as its wire document plus the indexed columns the lookups need. Neither is removed with
-- its colony (as upstream).

CREATE TABLE blueprint_definitions (
    definitionid  TEXT PRIMARY KEY,
    colonyname    TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,     -- spec.names.kind
    document      TEXT NOT NULL,
    UNIQUE (colonyname, name)
);
CREATE INDEX blueprint_definitions_by_kind ON blueprint_definitions (colonyname, kind, name);

CREATE TABLE blueprints (
    blueprintid   TEXT PRIMARY KEY,
    colonyname    TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    locationname  TEXT NOT NULL,     -- metadata.locationname as sent
    document      TEXT NOT NULL,
    UNIQUE (colonyname, name)
);
CREATE INDEX blueprints_by_kind ON blueprints (colonyname, kind, name);

-- Audit trail of creates and spec changes, kept after the blueprint is removed (as upstream).
CREATE TABLE blueprint_history (
    historyid    TEXT PRIMARY KEY,
    blueprintid  TEXT NOT NULL,
    ts           INTEGER NOT NULL,
    document     TEXT NOT NULL
);
CREATE INDEX blueprint_history_by_blueprint ON blueprint_history (blueprintid, ts);
