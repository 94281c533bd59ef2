-- Tasks and automation rules (policies.md §7).

-- Rules as data: `conditions` and `actions` are JSON in the canonical shape
-- of steward_domain::automation (checked on every save). Triggers run on
-- ticket changes, automations on the clock. `sweep_after` is set when an
-- automation is created or its conditions change: the scheduler then walks
-- the tickets with a larger id, a batch per tick, to schedule them for the
-- new rule; NULL when there is nothing to walk.
CREATE TABLE rules (
    id __PK__,
    kind TEXT NOT NULL,                     -- trigger | automation
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active BIGINT NOT NULL DEFAULT 1,
    position BIGINT NOT NULL,
    conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    sweep_after BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX rules_kind ON rules (kind, position, id);

-- A rule fires once per condition episode: a row exists while a rule's
-- conditions hold for a ticket after it fired, and is deleted when they
-- stop holding, so the next time they hold it fires again.
CREATE TABLE rule_episodes (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    rule_id BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, rule_id)
);
CREATE INDEX rule_episodes_rule ON rule_episodes (rule_id);

-- Per ticket: when it entered its status (for hours_in_status) and the
-- next instant an automation may start to match it if nothing changes.
-- The scheduler reads only due rows through the partial index.
CREATE TABLE ticket_rule_checks (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id),
    status TEXT NOT NULL,
    status_since BIGINT NOT NULL,
    next_check BIGINT
);
CREATE INDEX ticket_rule_checks_due ON ticket_rule_checks (next_check) WHERE next_check IS NOT NULL;

-- Tasks: a title, an owner and a due instant, linked to a ticket and/or an
-- organization; made by a person or by a rule (created_by_rule_id keeps the
-- id of a rule even after the rule is deleted).
CREATE TABLE tasks (
    id __PK__,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id BIGINT REFERENCES users (id),
    due_at BIGINT,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    ticket_id BIGINT REFERENCES tickets (id),
    organization_id BIGINT REFERENCES organizations (id),
    created_by_user_id BIGINT REFERENCES users (id),
    created_by_rule_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX tasks_owner ON tasks (owner_id, id);
CREATE INDEX tasks_ticket ON tasks (ticket_id, id);
CREATE INDEX tasks_organization ON tasks (organization_id, id);
CREATE INDEX tasks_status ON tasks (status, id);

-- The three rules of §7, inserted once: admins may edit, deactivate or
-- delete them and they do not come back. The two triggers also require an
-- unsolved ticket: a P0 filed already solved (an import) alerts no one. Group ids are the fixed ones of
-- common_seed.sql (1 Technical Support, 2 Implementation, 3 Billing &
-- Admin). The automation starts with a sweep so that tickets that existed
-- before this migration are scheduled too.
INSERT INTO rules (kind, title, description, active, position, conditions, actions, sweep_after, created_at, updated_at) VALUES
('trigger', 'Critical system issue',
 'P0 in Technical Support: alert #critical-alerts, give it to the least busy agent, first response within 30 minutes (policies.md §7.1).',
 1, 1,
 '{"all": [{"field": "priority", "operator": "is", "value": "urgent"}, {"field": "group_id", "operator": "is", "value": 1}, {"field": "status", "operator": "less_than", "value": "solved"}], "any": []}',
 '[{"field": "assignee_id", "value": "available_agent"}, {"field": "first_response_target", "value": 30}, {"field": "notify_channel", "value": {"channel": "#critical-alerts", "text": "P0 critical system issue: ticket #{{ticket.id}} ({{account.name}}, {{account.tier}}), assigned to {{ticket.assignee}}: {{ticket.subject}}"}}]',
 NULL, 0, 0),
('automation', 'Implementation blocker',
 'Implementation ticket open for 3+ days: alert the CS Manager, a follow-up task, priority one step up (policies.md §7.2).',
 1, 2,
 '{"all": [{"field": "group_id", "operator": "is", "value": 2}, {"field": "status", "operator": "is", "value": "open"}, {"field": "hours_in_status", "operator": "greater_than_or_equal", "value": 72}], "any": []}',
 '[{"field": "raise_priority", "value": null}, {"field": "notify_channel", "value": {"channel": "#{{account.slug}}-implementation", "text": "CS Manager: implementation blocker. Ticket #{{ticket.id}} ({{account.name}}) has been open for 3+ days; priority raised to {{ticket.priority}}: {{ticket.subject}}"}}, {"field": "create_task", "value": {"title": "Implementation blocker on ticket #{{ticket.id}} ({{account.name}}): unblock it", "description": "{{ticket.subject}}", "owner": "CS Manager", "due_in_hours": 24, "priority": null}}, {"field": "create_task", "value": {"title": "Follow up on implementation ticket #{{ticket.id}}: {{ticket.subject}}", "description": "", "owner": "assignee", "due_in_hours": 48, "priority": null}}]',
 0, 0, 0),
('trigger', 'Billing escalation',
 'P1 or P0 in Billing & Admin: route to the CS Manager, a task for finance, a follow-up within 24 hours (policies.md §7.3).',
 1, 3,
 '{"all": [{"field": "group_id", "operator": "is", "value": 3}, {"field": "status", "operator": "less_than", "value": "solved"}], "any": [{"field": "priority", "operator": "is", "value": "high"}, {"field": "priority", "operator": "is", "value": "urgent"}]}',
 '[{"field": "assignee_id", "value": "CS Manager"}, {"field": "create_task", "value": {"title": "Finance: review billing escalation on ticket #{{ticket.id}} ({{account.name}})", "description": "{{ticket.subject}}", "owner": "Finance", "due_in_hours": null, "priority": null}}, {"field": "create_task", "value": {"title": "Follow up on billing escalation #{{ticket.id}}: {{ticket.subject}}", "description": "", "owner": "assignee", "due_in_hours": 24, "priority": null}}]',
 NULL, 0, 0);
