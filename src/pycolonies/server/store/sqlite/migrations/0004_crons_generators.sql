-- Crons and generators (protocol ext/30-crons-generators.md): stored workflow triggers, and the
-- queue of arguments packed into each generator. Times are Unix nanoseconds (0 = never).

CREATE TABLE crons (
    cronid                  TEXT PRIMARY KEY,
    colonyname              TEXT NOT NULL,
    name                    TEXT NOT NULL,
    initiatorid             TEXT NOT NULL,
    initiatorname           TEXT NOT NULL,
    cronexpression          TEXT NOT NULL,
    intervalsecs            INTEGER NOT NULL,   -- the wire's `interval`; -1 = use the expression
    random                  INTEGER NOT NULL,
    nextrun                 INTEGER NOT NULL,   -- 0 = not evaluated yet; advanced by a conditional update per firing
    lastrun                 INTEGER NOT NULL,
    workflowspec            TEXT NOT NULL,      -- the WorkflowSpec JSON text as the client sent it
    prevprocessgraphid      TEXT NOT NULL,
    waitforprevprocessgraph INTEGER NOT NULL,
    UNIQUE (colonyname, name)
);
CREATE INDEX crons_by_nextrun ON crons (nextrun);

CREATE TABLE generators (
    generatorid    TEXT PRIMARY KEY,
    colonyname     TEXT NOT NULL,
    name           TEXT NOT NULL,
    initiatorid    TEXT NOT NULL,
    initiatorname  TEXT NOT NULL,
    workflowspec   TEXT NOT NULL,
    triggersize    INTEGER NOT NULL,   -- the wire's `trigger`
    timeoutsecs    INTEGER NOT NULL,   -- the wire's `timeout`
    firstpack      INTEGER NOT NULL,
    lastrun        INTEGER NOT NULL,
    UNIQUE (colonyname, name)
);

-- Pending arguments, consumed oldest first (seq order).
CREATE TABLE generator_args (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    argid        TEXT NOT NULL UNIQUE,
    generatorid  TEXT NOT NULL,
    colonyname   TEXT NOT NULL,
    arg          TEXT NOT NULL,
    added        INTEGER NOT NULL
);
CREATE INDEX generator_args_by_generator ON generator_args (generatorid, seq);
