"""The console's Lever connection flow: connect (OAuth start), callback, finish set-up, refresh
lists, perform_as, disconnect.

Only org owners and admins (and platform superusers acting in an org) may change a connection;
everyone else gets a 403 page. Every failure ends on the connection page with a message (the
error is also stored on the connection), or on a friendly 4xx page; never a 500. The Lever work
itself is in providers/lever/connect.py.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .errors import ProviderError
from .forms import PerformAsForm
from .models import Connection, Provider
from .providers.lever import connect

log = logging.getLogger("integrations.lever.connect")

STATE_SESSION_KEY = "lever_oauth_states"
STATE_TTL = 15 * 60
MAX_PENDING_STATES = 5


def problem(request, status: int, title: str, message: str, connection=None):
    return render(request, "integrations/problem.html",
                  {"title": title, "message": message, "connection": connection,
                   "back": change_url(connection) if connection else
                   reverse("admin:integrations_connection_changelist")}, status=status)


def can_manage(request) -> bool:
    if request.user.is_superuser:
        return True
    membership = getattr(request, "membership", None)
    return bool(membership and membership.can_manage)


def manager_required(view):
    """Signed in, and owner/admin of the current org (403 page otherwise)."""
    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_manage(request) or request.org is None:
            return problem(request, 403, "Only owners and admins can change ATS connections",
                           "Ask an owner or admin of your organization to do this.")
        return view(request, *args, **kwargs)
    return wrapped


def change_url(connection) -> str:
    return reverse("admin:integrations_connection_change", args=[connection.pk])


def lever_connection(request, public_id) -> Connection:
    connection = Connection.objects.filter(public_id=public_id, provider=Provider.LEVER,
                                           org=request.org).first()
    if connection is None:
        raise Http404("no such Lever connection in this organization")
    return connection


# -- OAuth state in the session, bound to one connection ----------------------------------------

def remember_state(request, connection) -> str:
    state = secrets.token_urlsafe(32)
    now = time.time()
    pending = {k: v for k, v in request.session.get(STATE_SESSION_KEY, {}).items()
               if now - v["at"] < STATE_TTL}
    for old in sorted(pending, key=lambda k: pending[k]["at"])[:-(MAX_PENDING_STATES - 1)]:
        pending.pop(old)
    pending[state] = {"connection": connection.pk, "org": connection.org_id, "at": now}
    request.session[STATE_SESSION_KEY] = pending
    return state


def take_state(request, state: str) -> dict | None:
    """The pending round trip `state` names (used once), or None if unknown or expired."""
    pending = dict(request.session.get(STATE_SESSION_KEY, {}))
    entry = pending.pop(state, None) if state else None
    request.session[STATE_SESSION_KEY] = pending
    if entry is None or time.time() - entry["at"] >= STATE_TTL:
        return None
    return entry


# -- views --------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@manager_required
def lever_connect(request):
    """Start OAuth: `?sandbox=1` for the built-in fake, `?connection=<id>` to reconnect one."""
    params = request.POST if request.method == "POST" else request.GET
    existing = None
    if params.get("connection"):
        try:
            public_id = uuid.UUID(params["connection"])
        except ValueError:
            raise Http404("no such Lever connection") from None
        existing = lever_connection(request, public_id)
    sandbox = existing.is_sandbox if existing else params.get("sandbox") in ("1", "true", "yes")
    try:
        connection = connect.begin(request.org, sandbox=sandbox, connection=existing)
        url = connect.authorize_url(connection, remember_state(request, connection))
    except connect.ConnectError as exc:
        return problem(request, 400, "Lever cannot be connected", str(exc), existing)
    log.info("integrations.lever.connect.start connection=%s sandbox=%s user=%s",
             connection.public_id, sandbox, request.user.pk)
    return redirect(url)


@require_GET
@login_required
def lever_callback(request):
    """Lever sends the admin back here with `code` (or `error`) and our `state`."""
    entry = take_state(request, request.GET.get("state", ""))
    if entry is None:
        log.warning("integrations.lever.connect.bad_state user=%s", request.user.pk)
        return problem(request, 400, "This Lever sign-in cannot be used",
                       "Lever's answer does not match a connection started from this browser "
                       "(the state is missing, wrong, already used or older than 15 minutes). "
                       "Nothing was changed; start again with “Connect Lever”.")
    if not can_manage(request) or request.org is None or request.org.pk != entry["org"]:
        return problem(request, 403, "This Lever sign-in belongs to another organization",
                       "Switch back to the organization you started from and connect again.")
    connection = Connection.objects.filter(pk=entry["connection"], org=request.org).first()
    if connection is None:
        return problem(request, 400, "The connection is gone",
                       "The connection this sign-in was for no longer exists. Start again.")
    if request.GET.get("error"):
        reason = request.GET.get("error_description") or request.GET["error"]
        message = f"Lever did not grant access: {reason} ({request.GET['error']})."
        connection.record_error(message)
        messages.error(request, f"{message} Nothing was changed; connect again when ready.")
        return redirect(change_url(connection))
    code = request.GET.get("code")
    if not code:
        return problem(request, 400, "Lever sent no authorization code",
                       "Nothing was changed; start again with “Connect Lever”.", connection)
    try:
        warnings = connect.complete(connection, code, admin_email=request.user.email)
    except connect.ConnectError as exc:
        messages.error(request, str(exc))
        return redirect(change_url(connection))
    messages.success(request, "Lever is connected and Assay's webhook is registered. One step "
                              "is left in Lever: " + connect.MANUAL_STEP)
    for warning in warnings:
        messages.warning(request, warning)
    return redirect(change_url(connection))


@require_POST
@manager_required
def lever_setup(request, connection_id):
    """Retry the webhook registration (after a failure, or to replace a lost webhook)."""
    connection = lever_connection(request, connection_id)
    try:
        warnings = connect.setup(connection, admin_email=request.user.email)
    except connect.ConnectError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Assay's webhook is registered in Lever.")
        for warning in warnings:
            messages.warning(request, warning)
    return redirect(change_url(connection))


@require_POST
@manager_required
def lever_refresh(request, connection_id):
    """Reload Lever's stages, postings and users (cached for 10 minutes otherwise)."""
    connection = lever_connection(request, connection_id)
    try:
        counts = connect.refresh_lists(connection)
    except ProviderError as exc:
        connection.record_error(f"loading Lever's lists: {exc}")
        messages.error(request, f"Lever's lists could not be loaded: {exc}")
    else:
        messages.success(request, "Lists refreshed from Lever: {} stages, {} postings, "
                                  "{} users.".format(*counts))
    return redirect(change_url(connection))


@require_POST
@manager_required
def lever_perform_as(request, connection_id):
    connection = lever_connection(request, connection_id)
    try:
        people = connect.users(connection)
    except ProviderError as exc:
        messages.error(request, f"Lever's users could not be loaded: {exc}")
        return redirect(change_url(connection))
    form = PerformAsForm(request.POST, users=people)
    if not form.is_valid():
        messages.error(request, "Choose one of the Lever users in the list.")
        return redirect(change_url(connection))
    try:
        person = connect.set_perform_as(connection, form.cleaned_data["perform_as"])
    except connect.ConnectError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Results are posted in Lever as {person['name']}.")
    return redirect(change_url(connection))


@require_POST
@manager_required
def lever_disconnect(request, connection_id):
    connection = lever_connection(request, connection_id)
    warnings = connect.disconnect(connection)
    messages.success(request, "Lever is disconnected: Assay's webhook was removed and the "
                              "tokens forgotten. Stage mappings are kept for a reconnect.")
    for warning in warnings:
        messages.warning(request, warning)
    return redirect(change_url(connection))
