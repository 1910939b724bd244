-- Workflows: process graphs, and per-process counts of parents that have not yet succeeded so
-- that releasing a child costs O(its edges) however large the graph grows.

CREATE TABLE process_graphs (
    processgraphid  TEXT PRIMARY KEY,
    colonyname      TEXT NOT NULL,
    initiatorid     TEXT NOT NULL,
    initiatorname   TEXT NOT NULL,
    rootprocessids  TEXT NOT NULL,      -- JSON array, spec order
    processids      TEXT NOT NULL,      -- JSON array, spec order then add-child order
    state           INTEGER NOT NULL,
    submissiontime  BIGINT NOT NULL,
    starttime       BIGINT NOT NULL,
    endtime         BIGINT NOT NULL,
    nprocesses      BIGINT NOT NULL,
    nsuccessful     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX process_graphs_by_state ON process_graphs (colonyname, state, submissiontime);

ALTER TABLE processes ADD COLUMN pendingparents BIGINT NOT NULL DEFAULT 0;
