from django.http import HttpRequest

from participants import roles
from participants.models import Kind
from participants.selectors import requires_attention_count


def navigation(request: HttpRequest) -> dict[str, object]:
    """What the left navigation shows to the signed-in user."""
    user = request.user
    if not user.is_authenticated:
        return {}
    is_staff_kind = user.kind == Kind.STAFF
    can_set_versions = is_staff_kind and roles.can_set_versions(user)
    return {
        "nav_can_import": is_staff_kind and roles.can_import(user),
        "nav_can_view_participants": is_staff_kind and roles.can_view_participants(user),
        "nav_can_set_versions": can_set_versions,
        "nav_is_learner": user.kind == Kind.LEARNER,
        # One COUNT on the pending-versions index, only for those who can act on it.
        "nav_attention_count": requires_attention_count() if can_set_versions else 0,
    }
