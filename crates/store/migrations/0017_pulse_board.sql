-- Issue 5's last gaps (policies.md §9–§12): the weekly pulse survey, closing
-- and editing campaigns, themes per campaign, ending advisory-board
-- memberships, per-member QBR follow-ups, and the index the churn-risk
-- model's finance-billing count starts from.

-- A campaign is an NPS campaign or a weekly pulse; `closed_at` is set when
-- staff close it (status 'closed': no more answers, no reminders). A pulse
-- campaign, once sent, schedules the next week's draft; `follows_id` names
-- the campaign a draft continues, unique so the series never forks (NULLs
-- do not collide in either database).
ALTER TABLE nps_campaigns ADD COLUMN kind TEXT NOT NULL DEFAULT 'nps';
ALTER TABLE nps_campaigns ADD COLUMN closed_at BIGINT;
ALTER TABLE nps_campaigns ADD COLUMN follows_id BIGINT;
CREATE UNIQUE INDEX nps_campaigns_follows ON nps_campaigns (follows_id);
-- The scheduler's read: drafts whose send_at has come.
CREATE INDEX nps_campaigns_due ON nps_campaigns (status, send_at);
-- "Who had a survey link lately" (the pulse skips recent NPS recipients).
CREATE INDEX survey_tokens_user ON survey_tokens (user_id, created_at);

-- One row per contact and pulse campaign (policies.md §10): two 1–5
-- scales, the 0–10 recommend question and two free texts.
CREATE TABLE pulse_responses (
    id __PK__,
    campaign_id BIGINT NOT NULL REFERENCES nps_campaigns (id),
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    ease_of_use BIGINT NOT NULL,
    meets_needs BIGINT NOT NULL,
    recommend BIGINT NOT NULL,
    friction TEXT NOT NULL DEFAULT '',
    valuable_features TEXT NOT NULL DEFAULT '',
    answered_at BIGINT NOT NULL,
    UNIQUE (campaign_id, user_id)
);
CREATE INDEX pulse_responses_org ON pulse_responses (organization_id, answered_at);

-- Feedback that came from a survey answer names its campaign, so a
-- campaign's report can list the themes its answers were filed under.
ALTER TABLE feedback_items ADD COLUMN survey_campaign_id BIGINT REFERENCES nps_campaigns (id);
CREATE INDEX feedback_items_campaign ON feedback_items (survey_campaign_id);
-- Items made from NPS reasons before this migration: the answer with the
-- same contact, account and instant.
UPDATE feedback_items SET survey_campaign_id = (
    SELECT MIN(r.campaign_id) FROM nps_responses r
    WHERE r.user_id = feedback_items.user_id
      AND r.organization_id = feedback_items.organization_id
      AND r.answered_at = feedback_items.created_at
) WHERE source = 'nps_survey';

-- Ending a membership before its term is over keeps the row (history) with
-- the date and the reason.
ALTER TABLE cab_members ADD COLUMN ended_on TEXT;
ALTER TABLE cab_members ADD COLUMN end_reason TEXT;

-- The per-member follow-ups of a held QBR (policies.md §12), one task per
-- (meeting, member, kind): re-running the follow-ups adds only what is
-- missing. No foreign key on task_id: deleting a task stays possible, and
-- a deleted follow-up is not made again.
CREATE TABLE cab_follow_ups (
    meeting_id BIGINT NOT NULL REFERENCES cab_meetings (id),
    member_id BIGINT NOT NULL REFERENCES cab_members (id),
    kind TEXT NOT NULL,
    task_id BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (meeting_id, member_id, kind)
);

-- The churn-risk model counts billing tickets from finance contacts
-- (policies.md §9) starting from the finance contacts, not from every
-- ticket of the account (health-bench in BENCHMARKS.md).
CREATE INDEX contact_roles_role ON contact_roles (role, user_id);
