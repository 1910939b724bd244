-- Retention (COLONIES_RETENTION): the successful processes outside workflows, oldest submission
-- first, so that each purge batch is an index range however many processes the store keeps.
-- Workflow processes are purged with their graph, which process_graphs_by_state finds.
CREATE INDEX processes_retention ON processes (submissiontime) WHERE state = 2 AND processgraphid = '';
