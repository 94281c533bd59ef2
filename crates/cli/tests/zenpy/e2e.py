#!/usr/bin/env python3
"""Drives a running Steward server with the real Zendesk client, zenpy.

Run by `crates/cli/tests/api/zenpy.rs` against a fresh server; it can also
be pointed at any Steward by hand:

    ZENPY_FORCE_NETLOC=127.0.0.1:8080 ZENPY_FORCE_SCHEME=http \
    STEWARD_ZENPY_EMAIL=you@example.com STEWARD_ZENPY_TOKEN=... \
    python3 crates/cli/tests/zenpy/e2e.py

Only zenpy's ordinary methods are used, so every failure here is something a
Zendesk integration would hit. Every step says what it checks; the first
failed assertion ends the run with a non-zero exit status.
"""

import os
import sys
import time
import traceback
import uuid

from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, JobStatus, Organization, Ticket, TicketAudit, User
from zenpy.lib.exception import RecordNotFoundException

# More than one page of zenpy's default page size (100), so that listing and
# searching have to follow the server's pagination links.
BULK_TICKETS = 110
# The server's (and Zendesk's) limit per bulk request.
BULK_MAX = 100


def step(msg):
    print(f"zenpy e2e: {msg}", flush=True)


def client():
    for var in ("ZENPY_FORCE_NETLOC", "ZENPY_FORCE_SCHEME", "STEWARD_ZENPY_EMAIL", "STEWARD_ZENPY_TOKEN"):
        assert os.environ.get(var), f"{var} must be set (see the module docstring)"
    # The cache is off so that every read below is answered by the server,
    # not by zenpy's memory of the objects it has just written.
    return Zenpy(
        subdomain="steward",
        email=os.environ["STEWARD_ZENPY_EMAIL"],
        token=os.environ["STEWARD_ZENPY_TOKEN"],
        disable_cache=True,
        timeout=60,
    )


def wait_for_job(zd, job):
    """Polls a bulk request's JobStatus until it has finished."""
    assert isinstance(job, JobStatus), f"a bulk request should return a JobStatus, got {job!r}"
    assert job.id, f"the JobStatus has no id: {job.to_dict()}"
    deadline = time.monotonic() + 30
    while job.status in ("queued", "working"):
        assert time.monotonic() < deadline, f"job {job.id} still {job.status} after 30s"
        time.sleep(0.2)
        job = zd.job_status(id=job.id)
        assert isinstance(job, JobStatus), f"job_status(id=...) should return a JobStatus, got {job!r}"
    assert job.status == "completed", f"job {job.id} ended {job.status}: {job.to_dict()}"
    failed = [r.to_dict() for r in job.results if not getattr(r, "success", False)]
    assert not failed, f"job {job.id} has failed items: {failed}"
    return job


def main():
    zd = client()
    run = uuid.uuid4().hex[:10]
    # A made-up word that occurs in nothing but this run's tickets.
    marker = f"zq{run}"

    me = zd.users.me()
    assert me.email == os.environ["STEWARD_ZENPY_EMAIL"], f"users.me() is {me.email}"
    assert me.role == "admin", f"the test account should be an admin, is {me.role}"

    step("organization and end user")
    org = zd.organizations.create(Organization(name=f"Zenpy Org {run}", tags=["zenpy"]))
    assert isinstance(org, Organization), f"organizations.create should return an Organization, got {org!r}"
    assert org.id and org.name == f"Zenpy Org {run}", f"organization came back as {org.to_dict()}"
    assert zd.organizations(id=org.id).name == org.name, "organization read back by id differs"

    user = zd.users.create(
        User(name="Zoe Zenpy", email=f"zoe-{run}@zenpy.example", organization_id=org.id, role="end-user")
    )
    assert isinstance(user, User), f"users.create should return a User, got {user!r}"
    assert user.id, f"the user has no id: {user.to_dict()}"
    assert user.role == "end-user", f"a customer should be an end-user, is {user.role}"
    assert user.organization_id == org.id, f"user.organization_id is {user.organization_id}, expected {org.id}"
    assert user.email == f"zoe-{run}@zenpy.example", f"user.email is {user.email}"

    step("ticket for the end user")
    created = zd.tickets.create(
        Ticket(
            subject=f"Printer on fire {marker}",
            comment=Comment(body="The printer on floor 3 is on fire."),
            requester_id=user.id,
            priority="normal",
            tags=["zenpy", "printer"],
        )
    )
    assert isinstance(created, TicketAudit), f"tickets.create should return a TicketAudit, got {created!r}"
    ticket = created.ticket
    assert ticket is not None and ticket.id, f"the TicketAudit carries no ticket: {created.to_dict()}"
    assert created.audit is not None and created.audit.ticket_id == ticket.id, (
        f"the audit should belong to ticket {ticket.id}: {created.audit and created.audit.to_dict()}"
    )
    assert ticket.status == "new", f"a new ticket should be new, is {ticket.status}"
    assert ticket.priority == "normal", f"priority is {ticket.priority}"
    assert ticket.requester_id == user.id, f"requester_id is {ticket.requester_id}, expected {user.id}"
    assert ticket.organization_id == org.id, (
        f"the ticket should take the requester's organization {org.id}, has {ticket.organization_id}"
    )
    assert sorted(ticket.tags) == ["printer", "zenpy"], f"tags are {ticket.tags}"
    assert ticket.description == "The printer on floor 3 is on fire.", f"description is {ticket.description!r}"
    assert ticket.created is not None, f"created_at {ticket.created_at!r} should parse as a timestamp"
    # zenpy resolves related objects through their own endpoints.
    assert ticket.requester.id == user.id, f"ticket.requester is {ticket.requester}"
    assert ticket.organization.id == org.id, f"ticket.organization is {ticket.organization}"

    step("public comment and internal note")
    ticket.comment = Comment(body="We have called the fire brigade.", public=True)
    reply = zd.tickets.update(ticket)
    assert isinstance(reply, TicketAudit), f"tickets.update should return a TicketAudit, got {reply!r}"
    assert reply.ticket.id == ticket.id, f"update answered for ticket {reply.ticket.id}"

    ticket = zd.tickets(id=ticket.id)
    ticket.comment = Comment(body="Internal: the brigade is on its way.", public=False)
    note = zd.tickets.update(ticket)
    assert isinstance(note, TicketAudit), f"tickets.update should return a TicketAudit, got {note!r}"

    step("status and priority")
    ticket = zd.tickets(id=ticket.id)
    ticket.status = "open"
    ticket.priority = "high"
    changed = zd.tickets.update(ticket).ticket
    assert changed.status == "open", f"status after update is {changed.status}"
    assert changed.priority == "high", f"priority after update is {changed.priority}"
    again = zd.tickets(id=ticket.id)
    assert (again.status, again.priority) == ("open", "high"), (
        f"read back status/priority are {again.status}/{again.priority}"
    )
    assert again.description == "The printer on floor 3 is on fire.", (
        f"the description is the first comment and stays so; it is {again.description!r}"
    )

    step("comments read back")
    comments = list(zd.tickets.comments(ticket=ticket.id))
    got = [(c.body, c.public) for c in comments]
    assert got == [
        ("The printer on floor 3 is on fire.", True),
        ("We have called the fire brigade.", True),
        ("Internal: the brigade is on its way.", False),
    ], f"comments (body, public) are {got}"
    assert all(c.author_id for c in comments), f"every comment needs an author_id: {[c.to_dict() for c in comments]}"
    assert comments[1].author_id == me.id, f"the agent's reply should be authored by {me.id}: {comments[1].author_id}"

    step(f"create_many: {BULK_TICKETS} tickets in batches of {BULK_MAX}")
    bulk_ids = []
    for start in range(0, BULK_TICKETS, BULK_MAX):
        batch = [
            Ticket(
                subject=f"Bulk {marker} number {i}",
                comment=Comment(body=f"bulk ticket {i} for {marker}"),
                requester_id=user.id,
                priority="low",
            )
            for i in range(start, min(start + BULK_MAX, BULK_TICKETS))
        ]
        job = wait_for_job(zd, zd.tickets.create(batch))
        assert job.total == len(batch), f"the job counts {job.total} items, {len(batch)} were sent"
        ids = [r.id for r in job.results]
        assert all(ids), f"every created item needs an id: {[r.to_dict() for r in job.results]}"
        bulk_ids.extend(ids)
    assert len(set(bulk_ids)) == BULK_TICKETS, f"create_many gave {len(set(bulk_ids))} distinct ids"

    step("show_many")
    some = bulk_ids[:5] + [ticket.id]
    shown = list(zd.tickets(ids=some))
    assert sorted(t.id for t in shown) == sorted(some), f"show_many returned {[t.id for t in shown]}, asked for {some}"

    step("update_many")
    to_update = list(zd.tickets(ids=bulk_ids[:3]))
    for t in to_update:
        t.status = "pending"
        t.tags = ["bulk-updated"]
    job = wait_for_job(zd, zd.tickets.update(to_update))
    assert sorted(r.id for r in job.results) == sorted(bulk_ids[:3]), (
        f"update_many results name {[r.id for r in job.results]}"
    )
    for t in zd.tickets(ids=bulk_ids[:3]):
        assert t.status == "pending" and list(t.tags) == ["bulk-updated"], (
            f"ticket {t.id} after update_many: status {t.status}, tags {t.tags}"
        )

    step("list every ticket (more than one page)")
    listed = [t.id for t in zd.tickets()]
    assert len(listed) == len(set(listed)), f"listing repeated tickets: {len(listed)} rows, {len(set(listed))} ids"
    missing = set(bulk_ids + [ticket.id]) - set(listed)
    assert not missing, f"listing all tickets missed {sorted(missing)[:10]} ({len(missing)} in all)"

    step("search")
    found = list(zd.search(f"Printer {marker}", type="ticket"))
    assert [t.id for t in found] == [ticket.id], (
        f"free-text search found {[t.id for t in found]}, expected [{ticket.id}]"
    )
    assert isinstance(found[0], Ticket), f"a ticket search should yield Ticket objects, got {found[0]!r}"

    found = list(zd.search(marker, type="ticket", status="open"))
    assert [t.id for t in found] == [ticket.id], f"search status:open found {[t.id for t in found]}"
    found = list(zd.search(marker, type="ticket", priority="high"))
    assert [t.id for t in found] == [ticket.id], f"search priority:high found {[t.id for t in found]}"
    found = list(zd.search(marker, type="ticket", status="pending", tags="bulk-updated"))
    assert sorted(t.id for t in found) == sorted(bulk_ids[:3]), (
        f"search status:pending tags:bulk-updated found {[t.id for t in found]}, expected {bulk_ids[:3]}"
    )
    found = list(zd.search(marker, type="ticket", priority="urgent"))
    assert found == [], f"nothing is urgent, yet search found {[t.id for t in found]}"

    # More hits than a page: the generator must follow next_page.
    found = [t.id for t in zd.search(marker, type="ticket", priority="low")]
    assert len(found) == len(set(found)), f"search pages repeated hits: {len(found)} rows, {len(set(found))} ids"
    assert sorted(found) == sorted(bulk_ids), f"paged search found {len(found)} of {len(bulk_ids)} bulk tickets"
    count = zd.search.count(marker, type="ticket")
    assert count == BULK_TICKETS + 1, f"search.count says {count}, expected {BULK_TICKETS + 1}"
    users = list(zd.search(f"zoe-{run}", type="user"))
    assert [u.id for u in users] == [user.id], f"user search found {[u.id for u in users]}"

    step("delete")
    zd.tickets.delete(zd.tickets(id=bulk_ids[-1]))
    try:
        zd.tickets(id=bulk_ids[-1])
    except RecordNotFoundException:
        pass
    else:
        raise AssertionError(f"ticket {bulk_ids[-1]} is still there after tickets.delete")

    step("all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
