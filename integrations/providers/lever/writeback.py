"""Results into Lever (DESIGN §3.7): a feedback form per test, and a note with the report link.

Lever has no assessment API, so a result becomes a Feedback Form from a template we create once
per connection × test version ("Assay — <test name>"): one score-system field "Assessment
rating" left empty until a recruiter's verdict, a text field per dimension holding the integer
score, a textarea summary and a text field with the report URL, posted as the Lever user chosen
at connection time (`perform_as`). Every write is checked first — an existing form or note that
carries the result id means that part was already delivered — so a retried delivery has no
second effect.
"""

from __future__ import annotations

import logging

from django.db import transaction

from integrations.errors import NotFound, PermanentProviderError

from .adapter import client_for

log = logging.getLogger("integrations.lever.writeback")

RATING_FIELD = "Assessment rating"
SUMMARY_FIELD = "Summary"
REPORT_FIELD = "Report"


def marker(envelope: dict) -> str:
    return f"Assay result {envelope['result_id']}"


def template_key(envelope: dict) -> str:
    return f"{envelope['test']['slug']}@{envelope['test']['version']}"


def template_fields(envelope: dict) -> list[dict]:
    fields = [{"type": "score-system", "text": RATING_FIELD, "required": False}]
    fields += [{"type": "text", "text": dim["name"], "required": False}
               for dim in envelope["dimensions"]]
    fields += [{"type": "textarea", "text": SUMMARY_FIELD, "required": False},
               {"type": "text", "text": REPORT_FIELD, "required": False}]
    return fields


def summary(envelope: dict) -> str:
    evidence = envelope["test"].get("evidence")
    lines = [f"{envelope['test']['name']}" + (f" ({evidence})" if evidence else "")]
    for dim in envelope["dimensions"]:
        if dim.get("percentile") is None:
            shown = "raw " + ("—" if dim.get("raw") is None else str(dim["raw"]))
        else:
            shown = f"percentile {dim['percentile']}, {dim['band']}"
        lines.append(f"{dim['name']}: {shown}")
    flags = envelope.get("quality", {}).get("flags") or []
    if flags:
        lines.append(f"Quality flags: {', '.join(flags)}")
    lines.append(marker(envelope))
    return "\n".join(lines)


def _stored_template(connection, envelope: dict) -> dict | None:
    return (connection.config.get("feedback_templates") or {}).get(template_key(envelope))


def ensure_template(client, connection, envelope: dict) -> dict:
    """Create the test's template once per connection × test version; remember its field ids."""
    from integrations.models import Connection

    stored = _stored_template(connection, envelope)
    if stored:
        return stored
    with transaction.atomic():
        # Serialise template creation per connection: two workers must not create two templates.
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        stored = _stored_template(locked, envelope)
        if stored:
            connection.config = locked.config
            return stored
        created = client.create_feedback_template(
            f"Assay — {envelope['test']['name']}", template_fields(envelope),
            instructions="Filled in by Assay when the candidate completes the assessment.")
        ids = [field["id"] for field in created["fields"]]
        dims = envelope["dimensions"]
        stored = {"id": created["id"], "rating": ids[0],
                  "dimensions": {dim["key"]: ids[1 + i] for i, dim in enumerate(dims)},
                  "summary": ids[1 + len(dims)], "report": ids[2 + len(dims)]}
        locked.config.setdefault("feedback_templates", {})[template_key(envelope)] = stored
        locked.save(update_fields=["config"])
        connection.config = locked.config
    log.info("integrations.lever.template.created connection=%s test=%s template=%s",
             connection.public_id, template_key(envelope), stored["id"])
    return stored


def forget_template(connection, envelope: dict) -> None:
    from integrations.models import Connection

    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        (locked.config.get("feedback_templates") or {}).pop(template_key(envelope), None)
        locked.save(update_fields=["config"])
        connection.config = locked.config


def _values(template: dict, envelope: dict) -> dict:
    values = {template["summary"]: summary(envelope), template["report"]: envelope["report_url"]}
    for dim in envelope["dimensions"]:
        if dim.get("score") is not None:
            values[template["dimensions"][dim["key"]]] = str(dim["score"])
    return values


def note_text(envelope: dict) -> str:
    scored = [f"{d['name']} {d['score']}" for d in envelope["dimensions"]
              if d.get("score") is not None]
    overall = envelope.get("overall") or {}
    head = f"Assay: {envelope['test']['name']} completed"
    if overall.get("score") is not None:
        head += f" — overall {overall['score']}"
    body = ", ".join(scored) if scored else "raw scores only (see report)"
    return f"{head}. {body}. Report: {envelope['report_url']} ({marker(envelope)})"


def deliver_result(delivery) -> None:
    """Outbox handler for kind "lever.result"; payload: {"envelope", "opportunity_id"}."""
    connection, envelope = delivery.connection, delivery.payload["envelope"]
    opportunity = delivery.payload["opportunity_id"]
    perform_as = connection.config.get("perform_as")
    if not perform_as:
        raise PermanentProviderError(
            "no Lever user chosen to post results as (set it on the connection, then retry)")
    client = client_for(connection)
    tag = marker(envelope)

    if not any(tag in str(form) for form in client.list_feedback(opportunity)):
        template = ensure_template(client, connection, envelope)
        try:
            client.create_feedback(opportunity, template["id"], _values(template, envelope),
                                   perform_as)
        except (NotFound, PermanentProviderError) as exc:
            # A template deleted in Lever: 404, or a 400 naming the template (the brief does not
            # say which Lever sends; accept both). Forget it, make a new one, try once more.
            if not isinstance(exc, NotFound) and "template" not in str(exc).lower():
                raise
            forget_template(connection, envelope)
            template = ensure_template(client, connection, envelope)
            client.create_feedback(opportunity, template["id"], _values(template, envelope),
                                   perform_as)
    if not any(tag in str(note) for note in client.list_notes(opportunity)):
        client.add_note(opportunity, note_text(envelope), perform_as=perform_as)
