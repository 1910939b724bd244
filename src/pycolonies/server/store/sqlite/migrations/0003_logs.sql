-- Logs (protocol ext/40-logs.md): free-text lines an executor attaches to the process it runs
-- (processid set) or to itself (processid ''). ts is the wire "timestamp" (Unix ns, set by the
-- server, strictly increasing within one server process); added is the server's wall-clock
-- time of storing, used for search windows and retention and never sent on the wire.
-- The integer key keeps insertion order, the tie-break when two lines share a timestamp.

CREATE TABLE logs (
    id            INTEGER PRIMARY KEY,
    processid     TEXT NOT NULL,
    colonyname    TEXT NOT NULL,
    executorname  TEXT NOT NULL,
    ts            INTEGER NOT NULL,
    message       TEXT NOT NULL,
    added         INTEGER NOT NULL
);
-- getlogsmsg by process: first/since/latest are range scans in timestamp order.
CREATE INDEX logs_by_process ON logs (processid, ts);
-- getlogsmsg by executor (within the executor's colony): the same scans.
CREATE INDEX logs_by_executor ON logs (colonyname, executorname, ts);
-- searchlogsmsg narrows to the colony's lines of the last <days> days, then matches the text
-- (a case-sensitive literal substring, instr()) and stops at <count> matches. The same index
-- serves colony removal and retention (per colony, added < cut-off).
CREATE INDEX logs_by_colony_added ON logs (colonyname, added);
