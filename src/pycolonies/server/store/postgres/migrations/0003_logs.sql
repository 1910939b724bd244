-- Logs (protocol ext/40-logs.md): free-text lines an executor attaches to the process it runs
-- (processid set) or to itself (processid ''). ts is the wire "timestamp" (Unix ns, set by the
-- server); added is the server's wall-clock time of storing, used for search windows and
-- retention and never sent on the wire. The identity key keeps insertion order, the tie-break
-- when two lines share a timestamp.

CREATE TABLE logs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    processid     TEXT NOT NULL,
    colonyname    TEXT NOT NULL,
    executorname  TEXT NOT NULL,
    ts            BIGINT NOT NULL,
    message       TEXT NOT NULL,
    added         BIGINT NOT NULL
);
CREATE INDEX logs_by_process ON logs (processid, ts);
CREATE INDEX logs_by_executor ON logs (colonyname, executorname, ts);
-- searchlogsmsg (strpos: a case-sensitive literal match), colony removal and retention.
CREATE INDEX logs_by_colony_added ON logs (colonyname, added);
