"""Signed webhooks to the merchant's own servers (issue #25 item 5, A-2, Standard Webhooks 1.0)."""
