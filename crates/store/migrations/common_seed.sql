-- Default groups and subgroups (policies.md §4) and the seeded custom ticket
-- fields. Shared by both dialects; ids are fixed so that they are the same
-- on every installation and can be referenced by rules and imports.
INSERT INTO groups (id, name, description, parent_id, created_at, updated_at) VALUES
 (1, 'Technical Support', 'Platform issues, integration help, performance questions', NULL, 0, 0),
 (2, 'Implementation', 'Project planning, onboarding, data migration', NULL, 0, 0),
 (3, 'Billing & Admin', 'Invoice questions, subscription changes, account management', NULL, 0, 0),
 (4, 'Escalations', 'Critical, high and medium escalations', NULL, 0, 0),
 (11, 'Technical Support / Platform issues', NULL, 1, 0, 0),
 (12, 'Technical Support / Integration help', NULL, 1, 0, 0),
 (13, 'Technical Support / Performance questions', NULL, 1, 0, 0),
 (21, 'Implementation / Project planning', NULL, 2, 0, 0),
 (22, 'Implementation / Onboarding', NULL, 2, 0, 0),
 (23, 'Implementation / Data migration', NULL, 2, 0, 0),
 (31, 'Billing & Admin / Invoice questions', NULL, 3, 0, 0),
 (32, 'Billing & Admin / Subscription changes', NULL, 3, 0, 0),
 (33, 'Billing & Admin / Account management', NULL, 3, 0, 0),
 (41, 'Escalations / Critical', NULL, 4, 0, 0),
 (42, 'Escalations / High', NULL, 4, 0, 0),
 (43, 'Escalations / Medium', NULL, 4, 0, 0);

INSERT INTO ticket_fields (id, title, field_type, options, commercial, position, created_at) VALUES
 (1, 'Implementation Phase', 'tagger', '["planning","configuration","data_migration","testing","go_live_preparation","stabilization"]', 0, 1, 0),
 (2, 'Contract Value', 'decimal', NULL, 1, 2, 0),
 (3, 'Revenue Impact', 'decimal', NULL, 1, 3, 0),
 (4, 'Churn Risk', 'tagger', '["green","yellow","orange","red"]', 0, 4, 0),
 (5, 'Requires Executive Escalation', 'checkbox', NULL, 0, 5, 0),
 (6, 'Requires Technical Deep Dive', 'checkbox', NULL, 0, 6, 0);
