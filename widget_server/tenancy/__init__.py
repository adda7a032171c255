"""Merchants (tenants), their admin users, roles and configuration (SPEC T-1…T-3)."""
