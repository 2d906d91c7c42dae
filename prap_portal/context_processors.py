from django.http import HttpRequest

from participants import roles


def navigation(request: HttpRequest) -> dict[str, object]:
    """What the left navigation shows to the signed-in user."""
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "nav_can_import": roles.can_import(user),
        "nav_can_view_participants": roles.can_view_participants(user),
        "nav_can_set_versions": roles.can_set_versions(user),
    }
