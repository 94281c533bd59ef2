-- Implementation projects (issue 4; policies.md §13).

-- Templates an admin edited or added; the shipped 30-day template lives in
-- code and a row with its key overrides it.
CREATE TABLE project_templates (
    key TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    template_key TEXT NOT NULL,
    -- The template as it was when the project was made: later edits of the
    -- template do not rewrite running projects.
    template TEXT NOT NULL,
    calendar TEXT NOT NULL,
    start_date TEXT NOT NULL,
    target_go_live TEXT NOT NULL,
    go_live_date TEXT NOT NULL,
    actual_go_live TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    owner_id BIGINT REFERENCES users (id),
    assignments TEXT NOT NULL DEFAULT '{}',
    budget_cents BIGINT,
    spend_cents BIGINT,
    technical_blockers TEXT NOT NULL DEFAULT '',
    dependencies TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX projects_org ON projects (organization_id);
CREATE INDEX projects_status ON projects (status, id);

CREATE TABLE project_milestones (
    id __PK__,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    key TEXT,
    phase BIGINT NOT NULL,
    day BIGINT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    planned_date TEXT NOT NULL,
    actual_date TEXT,
    owner_id BIGINT REFERENCES users (id),
    deliverables TEXT NOT NULL DEFAULT '[]',
    success_criteria TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'scheduled',
    critical_path BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX project_milestones_project ON project_milestones (project_id, planned_date);

ALTER TABLE tasks ADD COLUMN project_id BIGINT;
ALTER TABLE tasks ADD COLUMN phase BIGINT;
ALTER TABLE tasks ADD COLUMN milestone_id BIGINT;
ALTER TABLE tasks ADD COLUMN plan_key TEXT;
CREATE INDEX tasks_project ON tasks (project_id);

CREATE TABLE task_dependencies (
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    depends_on_id BIGINT NOT NULL REFERENCES tasks (id),
    PRIMARY KEY (task_id, depends_on_id)
);

CREATE TABLE project_risks (
    id __PK__,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    probability TEXT NOT NULL,
    impact TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'identified',
    mitigation TEXT NOT NULL DEFAULT '',
    owner_id BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX project_risks_project ON project_risks (project_id);

CREATE TABLE project_decisions (
    id __PK__,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    decision TEXT NOT NULL,
    rationale TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_on TEXT NOT NULL,
    timeline_impact_days BIGINT NOT NULL DEFAULT 0,
    scope_change_pct DOUBLE PRECISION NOT NULL DEFAULT 0,
    budget_overrun_pct DOUBLE PRECISION NOT NULL DEFAULT 0,
    author_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX project_decisions_project ON project_decisions (project_id);

CREATE TABLE project_budgets (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    phase BIGINT NOT NULL,
    side TEXT NOT NULL,
    role TEXT NOT NULL,
    hours DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (project_id, phase, side, role)
);

CREATE TABLE project_hours (
    id __PK__,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    phase BIGINT NOT NULL,
    side TEXT NOT NULL,
    role TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    hours DOUBLE PRECISION NOT NULL,
    logged_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    author_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX project_hours_project ON project_hours (project_id, logged_on);

-- Readiness items a person ticks (the computed ones are not stored).
CREATE TABLE project_checks (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    key TEXT NOT NULL,
    green BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    checked_by BIGINT REFERENCES users (id),
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, key)
);

CREATE TABLE project_handoffs (
    id __PK__,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    day BIGINT NOT NULL,
    due_date TEXT NOT NULL,
    checklist TEXT NOT NULL,
    overlap TEXT NOT NULL DEFAULT '[]',
    signed_off_by BIGINT REFERENCES users (id),
    signed_off_at BIGINT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX project_handoffs_project ON project_handoffs (project_id);

CREATE TABLE project_go_live_moves (
    id __PK__,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    decision_id BIGINT REFERENCES project_decisions (id),
    moved_by BIGINT NOT NULL REFERENCES users (id),
    moved_at BIGINT NOT NULL
);
CREATE INDEX project_go_live_moves_project ON project_go_live_moves (project_id);

CREATE TABLE expansion_opportunities (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    project_id BIGINT REFERENCES projects (id),
    title TEXT NOT NULL,
    arr_cents BIGINT NOT NULL,
    effort TEXT NOT NULL,
    probability_pct BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX expansion_opportunities_org ON expansion_opportunities (organization_id);
CREATE INDEX expansion_opportunities_project ON expansion_opportunities (project_id);

CREATE TABLE status_reports (
    id __PK__,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    week_ending TEXT NOT NULL,
    health TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    state TEXT NOT NULL DEFAULT 'draft',
    data TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '{}',
    recipient TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT,
    UNIQUE (project_id, week_ending)
);
