from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .middleware import SESSION_KEY


@login_required
@require_http_methods(["GET", "POST"])
def switch_org(request):
    """List the user's organizations and switch the console to one of them."""
    if request.method == "POST":
        try:
            org_id = int(request.POST.get("org", ""))
        except ValueError:
            org_id = None
        membership = next((m for m in request.memberships if m.org_id == org_id), None)
        if membership is None:
            messages.error(request, "You are not a member of that organization.")
            return redirect("tenants:switch")
        request.session[SESSION_KEY] = membership.org_id
        messages.success(request, f"Now working in {membership.org}.")
        target = request.POST.get("next") or "/admin/"
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
            target = "/admin/"
        return redirect(target)
    return render(request, "tenants/switch.html", {"next": request.GET.get("next", "")})
