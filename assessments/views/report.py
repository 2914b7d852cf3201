"""`/r/<id>`: the report behind the link written into ATSes (DESIGN §3.3), for signed-in members.

The id is a result's or an invitation's public id. The lookup runs in the member's current org
(TenantMiddleware), then in their other orgs, so a recruiter in two orgs can follow any link;
row-level security hides everyone else's rows, so a stranger gets 404 whatever the id.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from tenants.context import tenant_context

from ..models import Invitation, Result

COLUMNS = [("name", "Dimension"), ("score", "Score"), ("percentile", "Percentile"),
           ("band", "Band"), ("sten", "Sten"), ("t_score", "T"), ("ci90_t", "90 % CI (T)"),
           ("raw", "Raw"), ("items_answered", "Answered"), ("items_total", "Items")]


def _find(public_id):
    result = (Result.objects.select_related("invitation__candidate")
              .filter(public_id=public_id).first())
    if result is not None:
        return result.invitation, [result]
    invitation = (Invitation.objects.select_related("candidate")
                  .filter(public_id=public_id).first())
    if invitation is None:
        return None, []
    return invitation, list(invitation.results.order_by("attempt__invitation_test__position"))


def _cell(value):
    if value is None:
        return "—"
    if isinstance(value, list):
        return "–".join(str(v) for v in value)
    return value


@login_required
def report(request, public_id):
    invitation, results = _find(public_id)
    if invitation is None and not request.user.is_superuser:
        for membership in getattr(request, "memberships", []):
            if membership.org_id == getattr(request.org, "pk", None):
                continue
            with tenant_context(membership.org, user=request.user):
                invitation, results = _find(public_id)
                if invitation is not None:
                    page = _render(request, invitation, results)
                    return page
    if invitation is None:
        raise Http404("no such result or invitation")
    return _render(request, invitation, results)


def _render(request, invitation, results):
    rows = [{
        "envelope": r.envelope,
        "cells": [[_cell(dim.get(key)) for key, _ in COLUMNS]
                  for dim in r.envelope["dimensions"]],
    } for r in results]
    return render(request, "assessments/report.html", {
        **admin.site.each_context(request), "title": f"Report: {invitation.candidate}",
        "invitation": invitation, "results": rows, "columns": [label for _, label in COLUMNS],
    })
