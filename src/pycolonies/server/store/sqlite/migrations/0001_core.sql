-- Core schema: server, colonies, executors, functions, users, locations, processes, attributes.
-- Times are integers of Unix nanoseconds (0 = never); JSON columns hold wire-form JSON text.

CREATE TABLE server (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    serverid    TEXT NOT NULL
);

CREATE TABLE colonies (
    name        TEXT PRIMARY KEY,
    colonyid    TEXT NOT NULL,
    paused      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE executors (
    executorid        TEXT NOT NULL,
    colonyname        TEXT NOT NULL,
    executorname      TEXT NOT NULL,
    executortype      TEXT NOT NULL,
    state             INTEGER NOT NULL,
    requirefuncreg    INTEGER NOT NULL,
    commissiontime    INTEGER NOT NULL,
    lastheardfromtime INTEGER NOT NULL,
    locationname      TEXT NOT NULL,
    capabilities      TEXT NOT NULL,
    allocations       TEXT NOT NULL,
    blueprintid       TEXT NOT NULL DEFAULT '',
    blueprintgen      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (colonyname, executorname)
);
CREATE INDEX executors_by_id ON executors (executorid);

CREATE TABLE functions (
    functionid    TEXT PRIMARY KEY,
    colonyname    TEXT NOT NULL,
    executorname  TEXT NOT NULL,
    funcname      TEXT NOT NULL,
    added         INTEGER NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX functions_by_executor ON functions (colonyname, executorname, funcname);

CREATE TABLE users (
    colonyname  TEXT NOT NULL,
    name        TEXT NOT NULL,
    userid      TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT NOT NULL,
    PRIMARY KEY (colonyname, name)
);
CREATE INDEX users_by_id ON users (userid);

CREATE TABLE locations (
    colonyname  TEXT NOT NULL,
    name        TEXT NOT NULL,
    locationid  TEXT NOT NULL,
    description TEXT NOT NULL,
    long        REAL NOT NULL,
    lat         REAL NOT NULL,
    PRIMARY KEY (colonyname, name)
);

CREATE TABLE processes (
    processid          TEXT PRIMARY KEY,
    colonyname         TEXT NOT NULL,
    executortype       TEXT NOT NULL,
    locationname       TEXT NOT NULL,      -- lower-cased, '' = anywhere
    executornames      TEXT,               -- JSON array, NULL = any executor of the type
    state              INTEGER NOT NULL,
    isassigned         INTEGER NOT NULL,
    waitforparents     INTEGER NOT NULL,
    prioritytime       INTEGER NOT NULL,
    cpu                INTEGER NOT NULL,   -- millicores
    mem                INTEGER NOT NULL,   -- bytes
    assignedexecutorid TEXT NOT NULL,
    initiatorid        TEXT NOT NULL,
    initiatorname      TEXT NOT NULL,
    submissiontime     INTEGER NOT NULL,
    starttime          INTEGER NOT NULL,
    endtime            INTEGER NOT NULL,
    waitdeadline       INTEGER NOT NULL,
    execdeadline       INTEGER NOT NULL,
    retries            INTEGER NOT NULL,
    maxwaittime        INTEGER NOT NULL,
    maxexectime        INTEGER NOT NULL,
    maxretries         INTEGER NOT NULL,
    label              TEXT NOT NULL,
    funcname           TEXT NOT NULL,
    processgraphid     TEXT NOT NULL,
    spec               TEXT NOT NULL,
    parents            TEXT NOT NULL,
    children           TEXT NOT NULL,
    input              TEXT NOT NULL,
    output             TEXT NOT NULL,
    errors             TEXT NOT NULL,
    nattributes        INTEGER NOT NULL DEFAULT 0  -- lets the hot paths skip the attributes table
);
-- The assign query: eligible processes of one colony and executor type, best prioritytime first.
CREATE INDEX processes_assignable ON processes (colonyname, executortype, prioritytime)
    WHERE state = 0 AND waitforparents = 0;
CREATE INDEX processes_by_state ON processes (colonyname, state, prioritytime);
CREATE INDEX processes_by_end ON processes (colonyname, state, endtime);
-- Running processes are few (bounded by the executors): one index serves the exec-deadline sweep
-- and the lookup of an executor's processes.
CREATE INDEX processes_running ON processes (assignedexecutorid, execdeadline) WHERE state = 1;
CREATE INDEX processes_wait_deadline ON processes (waitdeadline) WHERE state = 0 AND waitdeadline > 0;
CREATE INDEX processes_by_graph ON processes (processgraphid) WHERE processgraphid != '';

CREATE TABLE attributes (
    attributeid          TEXT PRIMARY KEY,
    targetid             TEXT NOT NULL,
    targetcolonyname     TEXT NOT NULL,
    targetprocessgraphid TEXT NOT NULL,
    state                INTEGER NOT NULL,
    attributetype        INTEGER NOT NULL,
    key                  TEXT NOT NULL,
    value                TEXT NOT NULL,
    added                INTEGER NOT NULL
);
CREATE INDEX attributes_by_target ON attributes (targetid);
