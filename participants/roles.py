"""The roles the product names, as Django groups with real permissions.

Views ask for permissions, never for group names.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

CREATE_USERS = "Create users"
SUPERVISOR = "Supervisor"
COMPLIANCE_QA = "Compliance QA"
SET_PRAP_VERSION = "Ability to set PRaP version"

# Permissions as "app_label.codename".
PERM_CREATE_USERS = "participants.create_users"
PERM_VIEW_PARTICIPANTS = "participants.view_participant"
PERM_VIEW_NINO = "participants.view_nino"
PERM_SUPERVISE = "participants.supervise"
PERM_COMPLIANCE_QA = "participants.compliance_qa"
PERM_SET_PRAP_VERSION = "participants.set_prap_version"
PERM_VIEW_ACCESS_LOG = "participants.view_access_log"
PERM_IMPORT = "imports.add_importbatch"
PERM_VIEW_BATCHES = "imports.view_importbatch"

VERSION_HISTORY_PERMS = (PERM_SUPERVISE, PERM_COMPLIANCE_QA, PERM_SET_PRAP_VERSION)

# The groups themselves are seeded by migration 0002_seed_roles.
ROLES: tuple[str, ...] = (CREATE_USERS, SUPERVISOR, COMPLIANCE_QA, SET_PRAP_VERSION)

User = AbstractBaseUser | AnonymousUser


def can_import(user: User) -> bool:
    return user.is_authenticated and user.has_perm(PERM_CREATE_USERS)


def can_view_participants(user: User) -> bool:
    return user.is_authenticated and user.has_perm(PERM_VIEW_PARTICIPANTS)


def can_set_versions(user: User) -> bool:
    """Supervisor, Compliance QA or Ability to set PRaP version."""
    return user.is_authenticated and any(user.has_perm(p) for p in VERSION_HISTORY_PERMS)


def can_reveal_nino(user: User) -> bool:
    return user.is_authenticated and user.has_perm(PERM_VIEW_NINO)
