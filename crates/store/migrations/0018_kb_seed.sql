-- The knowledge base's defaults (policies.md §17): seven categories with
-- fixed ids and 27 published article stubs about using Steward, written by
-- Steward itself (author_id NULL). created_at 0 is replaced by the time of
-- the migration in the dialect script that follows; admins edit or delete
-- these like any article.

INSERT INTO kb_categories (id, name, description, position, created_at, updated_at) VALUES
 (1, 'Getting Started', 'First steps with Steward: signing in, roles, the portal.', 1, 0, 0),
 (2, 'Navigation & Workflows', 'Working tickets day to day: statuses, priorities, replies, escalation.', 2, 0, 0),
 (3, 'Configuration & Setup', 'Calendars, SLA policies, automation rules and templates.', 3, 0, 0),
 (4, 'Troubleshooting', 'When something does not behave as expected.', 4, 0, 0),
 (5, 'Best Practices', 'How experienced teams get the most out of Steward.', 5, 0, 0),
 (6, 'API & Advanced', 'Tokens, the Zendesk-compatible API and search syntax.', 6, 0, 0),
 (7, 'FAQs', 'Short answers to common questions.', 7, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (1, 'Welcome to Steward', 'Steward is one program for onboarding, supporting and keeping your customers:
a help desk, SLA and escalation engine, customer hub, health scores, surveys,
a knowledge base and dashboards.

## Who does what

- **CS Manager (admin)** configures policies and watches the dashboards.
- **CSMs** run implementation projects and status reports.
- **Support agents and contractors** work the ticket queues under SLA.
- **Executives (viewers)** read dashboards and reports.
- **Customers** open tickets, read this knowledge base and answer surveys.

## Where to start

1. Sign in with the admin account created at first start.
2. Add your accounts (organizations) and their contacts.
3. Check the SLA policies and business-hours calendars.
4. Invite your team and give each person a role.
', 'published', 'overview getting-started', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (1, 'Signing in and creating the first admin', 'On a database without an admin, `steward serve` creates one from two
environment variables:

```
STEWARD_ADMIN_EMAIL=you@example.com
STEWARD_ADMIN_PASSWORD=''a long passphrase''
```

Set `STEWARD_ADMIN_API_TOKEN` as well to register that string as the admin''s
API token, so scripts can call the API at once.

More people can be added from the command line:

```
steward user create --email ana@example.com --name "Ana" --role agent
```

Roles are `admin`, `csm`, `agent`, `contractor`, `viewer` and `end-user`.
Passwords are stored as argon2 hashes; Steward never logs them.
', 'published', 'admin setup sign-in', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (1, 'Roles and what each one can do', '| role | can |
|---|---|
| admin (CS Manager) | everything: agents, groups, rules, SLA policies, templates, knowledge base, analytics |
| csm | Implementation tickets and their accounts; Technical Support read-only; analytics for own accounts |
| agent | Technical Support and Escalations tickets |
| contractor | standard Technical Support only; no billing or contract fields; replies from templates |
| viewer | reads everything, changes nothing |
| end user | own tickets (and the organization''s, if shared), the portal, this knowledge base, surveys |

Staff who cannot read a ticket get *not found*, never a hint that it exists.
Customers never see another organization''s data.
', 'published', 'roles permissions', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (1, 'Using the customer portal', 'Your customers'' people use the portal to:

- **open a ticket** and follow its replies (they can also write to your
  support address or use the API);
- **see their organization''s tickets**, when the organization shares tickets;
- **read published knowledge-base articles** and vote on whether they helped;
- **answer surveys** (NPS, CSAT) from the links they receive.

Articles in *draft* are never shown in the portal. Anyone can read published
articles, signed in or not, so you can link to them from e-mails.
', 'published', 'portal end-user tickets', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (2, 'Ticket statuses and the ticket lifecycle', 'Steward uses Zendesk''s statuses:

- **new**: nobody has picked the ticket up yet;
- **open**: an agent is working on it;
- **pending**: waiting for the customer — the resolution and periodic-update
  SLA clocks pause;
- **hold**: waiting on a third party — the clocks pause too;
- **solved**: the agent believes it is done; the requester is asked for a
  CSAT rating;
- **closed**: final; a closed ticket is read-only, so a new question needs a
  new ticket.

First response never pauses: answer the customer before setting *pending*.
', 'published', 'tickets status workflow', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (2, 'Choosing the right priority', '| Steward | Zendesk value | use it for |
|---|---|---|
| P0 | `urgent` | system down, data loss, security breach, or a blocked go-live |
| P1 | `high` | core workflow blocked, major data inconsistency, performance degradation |
| P2 | `normal` | something is affected but a workaround exists |
| P3 | `low` | minor issue, question, enhancement request |

A ticket that blocks a customer''s go-live is **P0** whatever was filed.
Changing the priority re-targets the running SLA clocks from the ticket''s
original start, so upgrading late does not buy extra time.
', 'published', 'priority p0 p1 p2 p3', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (2, 'Public replies, internal notes and followers', '- A **public reply** is e-mailed to the requester and fulfils the
  *first response* target; each later public reply restarts the
  *periodic update* clock.
- An **internal note** is for staff only. It does not count as a response.
- **Followers** get copies of public activity. Accounts above $50,000 ACV get
  an executive follower automatically when a ticket escalates.

Tip: write the note first when you need a colleague''s input, then reply
publicly — the customer should never wait on an internal discussion.
', 'published', 'replies notes followers', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (2, 'How escalation works', 'Escalations follow the ladder of your account''s tier:

| level | Enterprise | Mid-Market | Starter |
|---|---|---|---|
| 1 | CS Manager | Implementation CSM | Support Team |
| 2 | VP Engineering | CS Manager | Implementation CSM |
| 3 | VP Product | VP Engineering | CS Manager |
| 4 | CEO | VP Product | — |

A warning (75 % of a target) raises level 1; a breach goes one level up.
P0 tickets also escalate on time: 1 hour open, 2 hours, 4 hours. Every
escalation produces a report to complete with what was tried and what is
needed, and a P0 owes a root-cause analysis within 24 hours of solving.
', 'published', 'escalation sla', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (3, 'Business-hours calendars and holidays', 'Three calendars ship with Steward:

| calendar | open |
|---|---|
| `24x7` | always |
| `business` | Mon–Fri 09:00–18:00 America/New_York |
| `extended` | Mon–Fri 06:00–22:00 America/New_York |

"4 business hours" means four hours while the calendar is open; one business
day on `business` is 9 hours. Admins add holidays with
`PUT /api/v2/calendars/{name}`. To check the arithmetic:

```
steward sla due --calendar business --start 2026-03-10T14:00:00-04:00 --minutes 540
```
', 'published', 'calendars business-hours holidays', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (3, 'SLA policies by tier and priority', 'Each ticket has three clocks: **first response**, **periodic update** and
**resolution**. Targets depend on the account''s tier (Enterprise above
$100,000 ACV, Mid-Market $25,000–$100,000, Starter below) and the priority.
For example:

| | Enterprise | Mid-Market | Starter |
|---|---|---|---|
| P0 first response | 30 min, 24x7 | 1 h in business hours | 4 business hours |
| P1 first response | 2 business hours | 4 business hours | 8 business hours |
| P2 resolution | 48 h | 3 business days | 5 business days |

Warnings fire at 75 % of a target, breaches at 100 %. Admins edit the table
at `/api/v2/slas/policies`.
', 'published', 'sla policies tiers', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (3, 'Automation rules: triggers and automations', 'Rules are conditions over ticket fields plus actions. **Triggers** run on
every ticket change; **automations** run on a schedule (for example "open
for 3 days").

Three rules ship enabled:

1. **Critical system issue** — P0 in Technical Support: alert
   `#critical-alerts` and assign an available agent.
2. **Implementation blocker** — Implementation ticket open 3+ days: alert the
   CS Manager, create a follow-up task, raise the priority one step.
3. **Billing escalation** — Billing & Admin at P1 or higher: route to the CS
   Manager and create tasks for finance.

A rule fires once per condition episode, never twice in a row for the same
situation.
', 'published', 'automation rules triggers', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (3, 'Editing communication templates', 'Steward ships eleven templates: welcome, pre-kickoff, post-kickoff summary,
weekly status, 30-day check-in, escalation notification, monthly risk
summary and four help-desk replies.

Templates use placeholders such as `{{ account.name }}`, `{{ ticket.id }}`
and `{{ ticket.requester.first_name }}`. An unknown placeholder is refused
when you save, with its line and column, so nothing goes out with a blank.
Use *preview* with a real ticket before saving; *reset* restores the
default.
', 'published', 'templates email placeholders', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (4, 'My SLA due time looks wrong', 'Check, in order:

1. **The calendar.** Business-hour targets only count open time: a ticket
   opened Saturday with a 1-business-day target is due Monday 18:00.
2. **Holidays.** A holiday closes the calendar all day.
3. **Status.** *Pending* and *hold* pause resolution and periodic update.
4. **Priority or tier changes.** They re-target from the original start.
5. **Time zone.** Calendars run in America/New_York, daylight saving
   included; the API shows instants in UTC.

The ticket''s metric events (`?include=slas,metric_events`) show every
start, pause and fulfilment.
', 'published', 'sla troubleshooting clocks', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (4, 'The API answers "Couldn''t authenticate you"', 'A 401 means the credentials were missing or wrong. Steward accepts:

- HTTP basic with `email/token:API_TOKEN` (note the `/token` suffix);
- HTTP basic with `email:password`;
- `Authorization: Bearer API_TOKEN`.

Common mistakes: the e-mail does not belong to the token''s user, the token
was copied with a trailing newline, or the user was deactivated. Create a
fresh token with `steward token create --email you@example.com`; it is shown
once.
', 'published', 'api 401 tokens troubleshooting', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (4, 'I can''t find a ticket I know exists', 'Tickets outside your role''s groups answer *not found*, on purpose:

- **CSMs** read Implementation and Technical Support;
- **agents** read Technical Support, Escalations and ungrouped tickets;
- **contractors** read Technical Support only;
- **end users** read their own tickets, plus their organization''s when it
  shares tickets.

Ask an admin to move the ticket to the right group, or to check your role.
Deleted tickets disappear from lists and search.
', 'published', 'visibility permissions troubleshooting', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (4, 'E-mails are not being delivered', 'Every e-mail is queued in the database with the change that caused it, so
nothing is lost while mail is misconfigured. Check:

1. `STEWARD_SMTP_URL` (and `STEWARD_SMTP_USER` / `STEWARD_SMTP_PASSWORD`)
   are set for `steward serve`; without them messages wait, they are not
   dropped.
2. `STEWARD_MAIL_FROM` is an address your mail server accepts.
3. The delivery log: `GET /api/v2/outbox?kind=email` shows each message,
   its attempts and last error. Failed sends retry with back-off.
', 'published', 'email smtp outbox troubleshooting', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (5, 'Writing a first response that meets the SLA', '- **Answer within the target, even if you do not have the fix yet.**
  Acknowledge, restate the problem, say what happens next and when.
- **Set the right priority first**; a late upgrade re-targets from the start.
- **Ask for everything you need in one message** (steps, account, screenshots,
  time of the error) so the ticket does not bounce.
- **Use templates** for the initial response and keep them personal with
  placeholders.
- **Link an article** from this knowledge base when it answers the question:
  customers can read it without signing in.
', 'published', 'best-practices first-response sla', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (5, 'Running a healthy 30-day implementation', 'The 30-day template spans about six working weeks: planning (week 1),
configuration (weeks 2–3), testing (weeks 4–5) and go-live (week 6).

- Hold the kickoff on day 1 and get the charter signed.
- Keep the risk registry current; a risk without an owner is not managed.
- Review the generated weekly status report every Friday before it goes out.
- Use the readiness checklist before moving the go-live date.
- Plan the handoff to support early; the 30-day check-in comes fast.
', 'published', 'implementation projects best-practices', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (5, 'Acting on churn-risk signals', 'Each account has a health score (100 minus risk) and a level: GREEN, YELLOW,
ORANGE or RED. Every point is explained by a factor with its evidence:
usage, NPS, tickets and escalations, renewal date and CSM flags.

- Read the factors, not just the number.
- When an account enters a worse level its playbook starts: work the tasks.
- Log every customer conversation in the communication log; it feeds the
  model and the account timeline.
- Record interventions with an owner and a target date.
', 'published', 'health churn-risk best-practices', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (5, 'Closing the feedback loop', 'Feedback comes from surveys, retrospectives, QBRs, tickets and usage data.
Steward groups duplicates into themes that count distinct accounts.

- Tag tickets with `feedback` to turn them into feedback items.
- Let the monthly product committee decide per theme: roadmap, backlog,
  known limitation, defer or reject (with a reason and an alternative).
- Every requester is told the decision, and told again when it ships —
  customers who hear back stay.
', 'published', 'feedback best-practices product', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (6, 'Creating and using API tokens', 'Create a token for a user from the command line:

```
steward token create --email you@example.com --description "reporting script"
```

The token is printed once; Steward stores only its SHA-256 digest. Use it as:

```
curl -u you@example.com/token:API_TOKEN https://steward.example.com/api/v2/tickets.json
curl -H "Authorization: Bearer API_TOKEN" https://steward.example.com/api/v2/users/me.json
```

A token acts with its user''s role, so give scripts their own user with the
least role they need.
', 'published', 'api tokens authentication', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (6, 'Using Zendesk clients with Steward', 'Steward''s `/api/v2` follows the Zendesk Support API: the same paths, JSON
envelopes (`{"ticket": {...}}`), field names, statuses and priorities, and
authentication. Existing clients such as **zenpy** (Python) or
**node-zendesk** work unchanged: point their subdomain or base URL at your
Steward server.

- Lists use offset pagination (`page`, `per_page` up to 100) or cursor
  pagination (`page[size]`, `page[after]`).
- Errors are JSON: `{"error": "RecordInvalid", "description": ..., "details": ...}`.
- The OpenAPI document is at `/api/v2/openapi.json`.
- Knowledge-base articles are at `/api/v2/help_center/articles`.
', 'published', 'api zendesk zenpy integration', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (6, 'Searching tickets, users and organizations', '`GET /api/v2/search?query=...` takes Zendesk''s syntax:

| query | finds |
|---|---|
| `type:ticket status<solved` | unsolved tickets |
| `priority:urgent tags:billing` | P0 tickets tagged billing |
| `assignee:me created>7days` | your tickets from the last week |
| `"data migration" -tags:done` | a phrase, excluding a tag |
| `type:user role:agent` | staff accounts |

Unknown fields are reported as errors rather than ignored, so typos show.
A search returns at most 1,000 results; use the list endpoints for exports.
', 'published', 'search api query-syntax', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (7, 'Should I use SQLite or PostgreSQL?', '**SQLite** (the default, a `steward.db` file) needs no server and is fast
enough for most teams; back it up by copying the file while Steward is
stopped, or with SQLite''s online backup.

Choose **PostgreSQL** (`--database-url postgres://...`) when you want
several `steward serve` processes behind a load balancer, or your company
already runs PostgreSQL backups and monitoring. Background work is still
done exactly once. Both pass the same test suite.
', 'published', 'faq database postgresql sqlite', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (7, 'How are NPS and CSAT surveys sent?', '- **CSAT**: when a ticket is solved, the requester is asked to rate it good or
  bad (or 1–5) with a comment. Re-rating replaces the earlier answer.
- **NPS**: campaigns go out quarterly to every active customer contact. Each
  link is personal, single-use and valid for 7 days; one reminder goes to
  people who have not answered. Unsubscribes are honoured.

Detractors (0–6) get a personal contact task within 24 hours, passives a
gap e-mail within 3 days, promoters a thank-you within a week.
', 'published', 'faq surveys nps csat', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (7, 'How are SLA credits calculated?', 'Credits are a percentage of the monthly fee (ACV ÷ 12), per account and
calendar month:

| tier | response miss | resolution miss | repeated misses |
|---|---|---|---|
| Enterprise | 5 % | 10 % | 2+ in a month: at least 15 % |
| Mid-Market | 3 % | 5 % | 2+ in a month: at least 10 % |
| Starter | 1 % | 2 % | only the first miss of the month |

Excluded tickets (the customer''s own network, a third-party integration,
announced maintenance, ...) and breaches inside a force-majeure window do not
count. See the monthly SLA report for the details.
', 'published', 'faq sla credits billing', 0, 0, 0);

INSERT INTO kb_articles (category_id, title, body, status, tags, created_at, updated_at, published_at) VALUES
 (7, 'Can customers see each other''s tickets?', 'No. A customer''s people see the tickets they requested and — only when their
organization is set to share tickets — the other tickets of their own
organization. They never see another organization''s tickets, users or
data, in the portal, the API or search.

Published knowledge-base articles are public; drafts are visible to staff
only.
', 'published', 'faq privacy end-user organizations', 0, 0, 0);
