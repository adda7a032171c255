"""A durable job queue in the database (SPEC N-1): written in the same transaction as the change
that causes a job, run by `flask worker` with leases, retries and backoff. Email is the first
kind; scheduled payments and webhooks are kinds of their own on the same mechanism."""
