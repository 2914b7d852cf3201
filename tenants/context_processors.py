def organization(request):
    return {
        "current_org": getattr(request, "org", None),
        "memberships": getattr(request, "memberships", []),
    }
