"""One unit of work per request, per job and per command: services change and flush; the
boundary commits once at its end, so a change, its domain events and its emails are kept or
lost together.

- A request commits after its view has answered (`after_request`); an exception (a 500)
  rolls everything back when the app context ends. A refusal (`DomainError`) is rolled back
  by the face that shows it (`form_fields.show_errors`), so a half-made change never commits
  with the page that says it was refused.
- A job commits in the queue (`jobs.queue.run_one`), fenced by its lease; a CLI command
  commits at its end.
- The one documented exception: a payment commits before the gateway is called
  (`billing.payments.pay`, `charge`, `payment_jobs.run_scheduled`), so that whatever happens
  during the call (a crash, a lost answer), the attempt and its resolution job are on record.
"""
from flask import Flask

from .extensions import db


def register(app: Flask) -> None:
    @app.after_request
    def commit_request(response):
        if response.status_code >= 500:
            db.session.rollback()
        elif db.session().in_transaction():
            db.session.commit()
        return response
