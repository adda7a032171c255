"""Roles and the permissions they grant (SPEC T-2), declared once.

The admin menu hides what a role lacks and `require_permission` answers 403 for it, both reading
this table.
"""
from enum import StrEnum


class Permission(StrEnum):
    MANAGE_PROFILES = "manage_profiles"
    MANAGE_CUSTOMERS = "manage_customers"
    SEND_INVITATIONS = "send_invitations"
    MANAGE_BILLING = "manage_billing"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_USERS = "manage_users"


PERMISSION_LABELS = {
    Permission.MANAGE_PROFILES: "Manage self-service profiles",
    Permission.MANAGE_CUSTOMERS: "Manage customers",
    Permission.SEND_INVITATIONS: "Send portal invitations",
    Permission.MANAGE_BILLING: "Manage billing",
    Permission.MANAGE_API_KEYS: "Manage API keys",
    Permission.MANAGE_SETTINGS: "Edit merchant configuration",
    Permission.MANAGE_USERS: "Manage admin users",
}

ROLES: dict[str, frozenset[Permission]] = {
    "owner": frozenset(Permission),
    "admin": frozenset(Permission) - {Permission.MANAGE_USERS},
    "staff": frozenset({Permission.MANAGE_CUSTOMERS, Permission.MANAGE_BILLING}),
}

ROLE_LABELS = {"owner": "Owner", "admin": "Admin", "staff": "Staff"}


def role_grants(role: str, permission: Permission) -> bool:
    return permission in ROLES.get(role, frozenset())
