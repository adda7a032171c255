"""Email: the outbox rows of the delivery log, templates, merchant overrides and delivery over
SMTP through the job queue (SPEC N-1…N-3, I-4, C-2)."""
