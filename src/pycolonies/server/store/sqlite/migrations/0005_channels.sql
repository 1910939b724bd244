-- Channels (protocol ext/10-channels.md): process-scoped message logs between a process's
-- submitter and its assigned executor. Upstream keeps them in one server's memory; here they are
-- stored, so a restart loses no entry of a running process and every replica reads the same log.
-- A channel row is created on first use (lazily, as upstream re-creates them) and removed with
-- its entries when the process closes.

CREATE TABLE channels (
    processid    TEXT NOT NULL,
    name         TEXT NOT NULL,
    submitterid  TEXT NOT NULL,      -- the process's initiator
    executorid   TEXT NOT NULL,      -- the executor it was last assigned to ('' before)
    entries      INTEGER NOT NULL,   -- entries appended so far = arrival number of the last one
    PRIMARY KEY (processid, name)
);

-- arrival: 1, 2, 3, ... per channel in append order (appends to a channel are serialised), the
-- cursor subscribers resume after. pos: the 0-based log position channelreadmsg counts in;
-- equal to arrival - 1 unless a sender appended a lower sequence after a higher one (upstream's
-- ordering rule then inserts it earlier and shifts the later entries).
CREATE TABLE channel_entries (
    id          INTEGER PRIMARY KEY,
    processid   TEXT NOT NULL,
    name        TEXT NOT NULL,
    arrival     INTEGER NOT NULL,
    pos         INTEGER NOT NULL,
    sequence    INTEGER NOT NULL,
    inreplyto   INTEGER NOT NULL,
    ts          INTEGER NOT NULL,   -- the wire "timestamp" (Unix ns)
    senderid    TEXT NOT NULL,
    payload     BLOB,               -- NULL: the request had no payload ('' is an empty one)
    type        TEXT NOT NULL
);
CREATE UNIQUE INDEX channel_entries_by_arrival ON channel_entries (processid, name, arrival);
CREATE INDEX channel_entries_by_pos ON channel_entries (processid, name, pos);
-- the ordering rule's lookup: an earlier entry of the same sender with a larger sequence
CREATE INDEX channel_entries_by_sender ON channel_entries (processid, name, senderid, sequence);
