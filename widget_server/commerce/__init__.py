"""Orders with lines and the merchant's sales agents (SPEC W-7, P-4)."""
