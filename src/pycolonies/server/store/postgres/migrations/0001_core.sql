-- Core schema: server, colonies, executors, functions, users, locations, processes, attributes.
-- The same tables as the SQLite backend's 0001_core.sql: times are BIGINT Unix nanoseconds
-- (0 = never), JSON columns hold wire-form JSON text (kept as text: key order is part of the wire
-- form). Where SQLite lists in rowid order, a `seq` identity column keeps insertion order.

CREATE TABLE server (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    serverid    TEXT NOT NULL
);

CREATE TABLE colonies (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    name        TEXT PRIMARY KEY,
    colonyid    TEXT NOT NULL,
    paused      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE executors (
    executorid        TEXT NOT NULL,
    colonyname        TEXT NOT NULL,
    executorname      TEXT NOT NULL,
    executortype      TEXT NOT NULL,
    state             INTEGER NOT NULL,
    requirefuncreg    BOOLEAN NOT NULL,
    commissiontime    BIGINT NOT NULL,
    lastheardfromtime BIGINT NOT NULL,
    locationname      TEXT NOT NULL,
    capabilities      TEXT NOT NULL,
    allocations       TEXT NOT NULL,
    blueprintid       TEXT NOT NULL DEFAULT '',
    blueprintgen      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (colonyname, executorname)
);
CREATE INDEX executors_by_id ON executors (executorid);

CREATE TABLE functions (
    functionid    TEXT PRIMARY KEY,
    colonyname    TEXT NOT NULL,
    executorname  TEXT NOT NULL,
    funcname      TEXT NOT NULL,
    added         BIGINT NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX functions_by_executor ON functions (colonyname, executorname, funcname);

CREATE TABLE users (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    colonyname  TEXT NOT NULL,
    name        TEXT NOT NULL,
    userid      TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT NOT NULL,
    PRIMARY KEY (colonyname, name)
);
CREATE INDEX users_by_id ON users (userid);

CREATE TABLE locations (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    colonyname  TEXT NOT NULL,
    name        TEXT NOT NULL,
    locationid  TEXT NOT NULL,
    description TEXT NOT NULL,
    long        DOUBLE PRECISION NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (colonyname, name)
);

CREATE TABLE processes (
    processid          TEXT PRIMARY KEY,
    colonyname         TEXT NOT NULL,
    executortype       TEXT NOT NULL,
    locationname       TEXT NOT NULL,      -- lower-cased, '' = anywhere
    executornames      TEXT,               -- JSON array, NULL = any executor of the type
    state              INTEGER NOT NULL,
    isassigned         BOOLEAN NOT NULL,
    waitforparents     BOOLEAN NOT NULL,
    prioritytime       BIGINT NOT NULL,
    cpu                BIGINT NOT NULL,    -- millicores
    mem                BIGINT NOT NULL,    -- bytes
    assignedexecutorid TEXT NOT NULL,
    initiatorid        TEXT NOT NULL,
    initiatorname      TEXT NOT NULL,
    submissiontime     BIGINT NOT NULL,
    starttime          BIGINT NOT NULL,
    endtime            BIGINT NOT NULL,
    waitdeadline       BIGINT NOT NULL,
    execdeadline       BIGINT NOT NULL,
    retries            BIGINT NOT NULL,
    maxwaittime        BIGINT NOT NULL,
    maxexectime        BIGINT NOT NULL,
    maxretries         BIGINT NOT NULL,
    label              TEXT NOT NULL,
    funcname           TEXT NOT NULL,
    processgraphid     TEXT NOT NULL,
    spec               TEXT NOT NULL,
    parents            TEXT NOT NULL,
    children           TEXT NOT NULL,
    input              TEXT NOT NULL,
    output             TEXT NOT NULL,
    errors             TEXT NOT NULL,
    nattributes        BIGINT NOT NULL DEFAULT 0  -- lets the hot paths skip the attributes table
);
-- The claim (UPDATE ... WHERE processid = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)): eligible
-- processes of one colony and executor type, best prioritytime first.
CREATE INDEX processes_assignable ON processes (colonyname, executortype, prioritytime)
    WHERE state = 0 AND NOT waitforparents;
CREATE INDEX processes_by_state ON processes (colonyname, state, prioritytime);
CREATE INDEX processes_by_end ON processes (colonyname, state, endtime);
CREATE INDEX processes_running ON processes (assignedexecutorid, execdeadline) WHERE state = 1;
-- The exec-deadline sweep (SQLite scans processes_running; PostgreSQL is given its own index).
CREATE INDEX processes_exec_deadline ON processes (execdeadline) WHERE state = 1 AND execdeadline > 0;
CREATE INDEX processes_wait_deadline ON processes (waitdeadline) WHERE state = 0 AND waitdeadline > 0;
CREATE INDEX processes_by_graph ON processes (processgraphid) WHERE processgraphid <> '';
-- A queue table: every process is inserted and updated two or three times, then deleted by
-- retention. Vacuum it after 1% of its rows changed rather than the default 20%.
ALTER TABLE processes SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);

CREATE TABLE attributes (
    seq                  BIGINT GENERATED ALWAYS AS IDENTITY,
    attributeid          TEXT PRIMARY KEY,
    targetid             TEXT NOT NULL,
    targetcolonyname     TEXT NOT NULL,
    targetprocessgraphid TEXT NOT NULL,
    state                INTEGER NOT NULL,
    attributetype        INTEGER NOT NULL,
    key                  TEXT NOT NULL,
    value                TEXT NOT NULL,
    added                BIGINT NOT NULL
);
CREATE INDEX attributes_by_target ON attributes (targetid);
