"""Signals other apps hook into to write their outbox rows in the same transaction.

Both are sent *inside* the transaction that made the change, so a receiver that writes rows
(integrations' Delivery outbox, outbound webhooks) commits or rolls back together with it.
Receivers must not do I/O: queue work with `transaction.on_commit` instead.

- `invitation_status_changed(sender=Invitation, invitation, old_status, new_status)`: on every
  status change, including creation (`old_status=None`).
- `result_created(sender=Result, result)`: once per scored attempt.
- `verdict_given(sender=Invitation, invitation)`: a recruiter gave (or changed) a thumbs up/down.
"""

from django.dispatch import Signal

invitation_status_changed = Signal()
result_created = Signal()
verdict_given = Signal()
