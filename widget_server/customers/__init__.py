"""Customers, their Primary Email addresses and the merchant's custom fields (SPEC T-5, C-2)."""
