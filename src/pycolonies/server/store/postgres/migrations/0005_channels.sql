-- Channels (protocol ext/10-channels.md): process-scoped message logs between a process's
-- submitter and its assigned executor, stored so that every replica reads the same log (the same
-- tables as the SQLite backend's 0005_channels.sql). A channel row is created on first use and
-- removed with its entries when the process closes.

CREATE TABLE channels (
    processid    TEXT NOT NULL,
    name         TEXT NOT NULL,
    submitterid  TEXT NOT NULL,      -- the process's initiator
    executorid   TEXT NOT NULL,      -- the executor it was last assigned to ('' before)
    entries      BIGINT NOT NULL,    -- entries appended so far = arrival number of the last one
    PRIMARY KEY (processid, name)
);

-- arrival: 1, 2, 3, ... per channel in append order (appends lock the channel row, so they are
-- serialised across replicas), the cursor subscribers resume after. pos: the 0-based log
-- position channelreadmsg counts in (upstream's ordering rule may insert an entry earlier).
CREATE TABLE channel_entries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    processid   TEXT NOT NULL,
    name        TEXT NOT NULL,
    arrival     BIGINT NOT NULL,
    pos         BIGINT NOT NULL,
    sequence    BIGINT NOT NULL,
    inreplyto   BIGINT NOT NULL,
    ts          BIGINT NOT NULL,    -- the wire "timestamp" (Unix ns)
    senderid    TEXT NOT NULL,
    payload     BYTEA,              -- NULL: the request had no payload ('' is an empty one)
    type        TEXT NOT NULL
);
CREATE UNIQUE INDEX channel_entries_by_arrival ON channel_entries (processid, name, arrival);
CREATE INDEX channel_entries_by_pos ON channel_entries (processid, name, pos);
CREATE INDEX channel_entries_by_sender ON channel_entries (processid, name, senderid, sequence);
