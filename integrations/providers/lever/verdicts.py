"""A recruiter's thumbs up/down into Lever: the rating of each result's feedback form, and a note.

The rating is the template's score-system field ("Assessment rating"), left empty at write-back;
a verdict sets it to "3 - Hire" or "2 - No Hire". The *current* verdict of the invitation is sent,
not the one in the delivery's payload, so deliveries retried out of order still end on the
recruiter's latest decision. Every field is sent on update (whether Lever merges omitted fields
is unconfirmed; brief §7.11).
"""

from __future__ import annotations

from integrations.errors import TransientProviderError

from .adapter import client_for
from .writeback import RATING_FIELD, marker

RATINGS = {"up": "3 - Hire", "down": "2 - No Hire"}
WORDS = {"up": "thumbs up (hire)", "down": "thumbs down (no hire)"}


def _current_verdict(invitation_id: str, fallback: str) -> str:
    from assessments.models import Invitation

    invitation = Invitation.objects.filter(public_id=invitation_id).only("verdict").first()
    return invitation.verdict if invitation and invitation.verdict else fallback


def deliver_verdict(delivery) -> None:
    """Outbox handler for kind "lever.verdict"."""
    payload, connection = delivery.payload, delivery.connection
    perform_as = connection.config.get("perform_as")
    if not perform_as:
        from integrations.errors import PermanentProviderError

        raise PermanentProviderError(
            "no Lever user chosen to post results as (set it on the connection, then retry)")
    verdict = _current_verdict(payload["invitation_id"], payload["verdict"])
    opportunity, client = payload["opportunity_id"], client_for(connection)
    forms = client.list_feedback(opportunity)
    for result_id in payload["result_ids"]:
        tag = marker({"result_id": result_id})
        form = next((f for f in forms if tag in str(f)), None)
        if form is None:
            # The result's own delivery has not reached Lever yet: try again later.
            raise TransientProviderError(f"the feedback form of result {result_id} is not in "
                                         "Lever yet")
        fields = form.get("fields") or []
        rating = next((f for f in fields if f.get("text") == RATING_FIELD), None)
        if rating is None or rating.get("value") == RATINGS[verdict]:
            continue
        values = {f["id"]: f.get("value") for f in fields
                  if f.get("id") and f.get("value") is not None}
        values[rating["id"]] = RATINGS[verdict]
        client.update_feedback(opportunity, form["id"], values, perform_as)
    note_tag = f"({payload['marker']})"
    if not any(note_tag in str(note) for note in client.list_notes(opportunity)):
        by = f" by {payload['by']}" if payload.get("by") else ""
        client.add_note(opportunity, f"Assay verdict: {WORDS[verdict]}{by}. {note_tag}",
                        perform_as=perform_as)
