"""Seed data: six stages, two users, two postings, two candidates and one feedback template."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from .messages import now_ms
from .rules import build_template

if TYPE_CHECKING:
    from .state import Store

SEED_NAMESPACE = uuid.UUID("6f1c2d1e-4a53-4c1b-9d7e-1e5a1f0c0a11")


def seed_id(name: str) -> str:
    """Stable ids for seed data, so a restarted fake keeps the ids a demo stored."""
    return str(uuid.uuid5(SEED_NAMESPACE, name))


def populate(store: Store) -> None:
    t0 = now_ms() - 30 * 86_400_000
    for name in (
        "New lead",
        "Reached out",
        "New applicant",
        "Phone Screen",
        "On-site interview",
        "Offer",
    ):
        store.stages.append({"id": seed_id(f"stage:{name}"), "text": name})
    for i, (name, email, role) in enumerate(
        [
            ("Riley Recruiter", "riley.recruiter@example.com", "super admin"),
            ("Sam Hiring-Manager", "sam.manager@example.com", "team member"),
        ]
    ):
        uid = seed_id(f"user:{email}")
        store.users[uid] = {
            "id": uid,
            "name": name,
            "username": email.split("@")[0],
            "email": email,
            "accessRole": role,
            "photo": None,
            "createdAt": t0 + i,
            "deactivatedAt": None,
            "externalDirectoryId": None,
            "linkedContactIds": [],
        }
    riley, sam = list(store.users)
    for i, (title, team, tags) in enumerate(
        [
            ("Senior Backend Engineer", "Engineering", ["assay"]),
            ("Customer Success Manager", "Customer Success", []),
        ]
    ):
        pid = seed_id(f"posting:{title}")
        store.postings[pid] = {
            "id": pid,
            "text": title,
            "state": "published",
            "distributionChannels": ["public"],
            "user": riley,
            "owner": riley,
            "hiringManager": sam,
            "tags": tags,
            "categories": {
                "team": team,
                "department": team,
                "location": "Remote",
                "commitment": "Full-time",
                "allLocations": ["Remote"],
            },
            "workplaceType": "remote",
            "createdAt": t0 + i,
            "updatedAt": t0 + i,
            "urls": {
                "list": f"{store.base_url}/jobs",
                "show": f"{store.base_url}/jobs/{pid}",
                "apply": f"{store.base_url}/jobs/{pid}/apply",
            },
        }
    posting_ids = list(store.postings)
    store.create_opportunity(
        {
            "name": "Ada Lovelace",
            "emails": ["ada@example.com"],
            "posting": posting_ids[0],
            "id": seed_id("opp:ada"),
        }
    )
    store.create_opportunity(
        {
            "name": "Grace Hopper",
            "emails": ["grace@example.org"],
            "posting": posting_ids[1],
            "stage_id": store.stages[1]["id"],
            "id": seed_id("opp:grace"),
        }
    )
    tid = seed_id("template:phone-screen")
    store.templates[tid] = build_template(
        tid,
        {
            "text": "Phone Screen Feedback",
            "instructions": "Filled in by the interviewer.",
            "fields": [
                {"type": "score-system", "text": "Overall rating", "required": True},
                {"type": "textarea", "text": "Notes", "required": False},
            ],
        },
    )
