-- The agent workspace's queues and the accounts list (issue 6) on a large
-- help desk: partial indexes that hold only the tickets a queue shows
-- (unsolved, not deleted), each in the order a queue reads them, so a page
-- is the first rows of one index instead of a sort of every unsolved
-- ticket (BENCHMARKS.md, "Web pages"). They cost nothing for solved
-- tickets, which are most of a mature help desk.
--
-- The predicate is written exactly as `queues.rs` writes its condition
-- (`UNSOLVED`): SQLite uses a partial index only when the query's WHERE
-- holds each of the index's terms verbatim.

-- All unsolved, newest activity first (and oldest first, read backwards).
CREATE INDEX tickets_open_updated ON tickets (updated_at, id)
    WHERE deleted = 0 AND status IN ('new', 'open', 'pending', 'hold');

-- All unsolved by priority (urgent first), then newest activity.
CREATE INDEX tickets_open_priority ON tickets (
    (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END),
    updated_at DESC, id DESC)
    WHERE deleted = 0 AND status IN ('new', 'open', 'pending', 'hold');

-- All unsolved, oldest first.
CREATE INDEX tickets_open_created ON tickets (created_at, id)
    WHERE deleted = 0 AND status IN ('new', 'open', 'pending', 'hold');

-- All unsolved, newest ticket first.
CREATE INDEX tickets_open_id ON tickets (id)
    WHERE deleted = 0 AND status IN ('new', 'open', 'pending', 'hold');

-- "My tickets" and "Unassigned" (assignee_id IS NULL).
CREATE INDEX tickets_open_assignee ON tickets (assignee_id, updated_at, id)
    WHERE deleted = 0 AND status IN ('new', 'open', 'pending', 'hold');

-- A group's queue.
CREATE INDEX tickets_open_group ON tickets (group_id, updated_at, id)
    WHERE deleted = 0 AND status IN ('new', 'open', 'pending', 'hold');

-- An account's open tickets: counted by the accounts list from this index
-- alone, listed newest first on the account page.
CREATE INDEX tickets_open_organization ON tickets (organization_id, updated_at, id)
    WHERE deleted = 0 AND status IN ('new', 'open', 'pending', 'hold');

-- "Recently solved" in another order than its default sorts the week's
-- solved tickets: migration 19's index of solves, widened by what that
-- view filters and sorts on, serves it alone (the dashboards read the
-- same index by its leading columns, as before; `id` is SQLite's rowid
-- anyway, and lets PostgreSQL sort from the index only).
DROP INDEX tickets_solved;
CREATE INDEX tickets_solved ON tickets (solved_at, deleted, organization_id, created_at, status, priority, updated_at, id);

-- The account page's timeline lists the account's latest solves: read
-- backwards along this range instead of sorting every ticket the account
-- ever had (46,511 for the busiest account of the benchmark). Only solved
-- tickets are in it, so creating a ticket does not write it.
CREATE INDEX tickets_org_solved ON tickets (organization_id, deleted, solved_at)
    WHERE solved_at IS NOT NULL;
