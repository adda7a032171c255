"""Flask CLI commands: `flask --app wsgi seed-demo`."""
import click
from flask import Flask


def _finish() -> None:
    """A command's end: its work commits here (services only flush)."""
    from .core.extensions import db

    db.session.commit()


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run what is due now, then exit.")
    @click.option("--poll", default=1.0, show_default=True, help="Seconds between polls.")
    def worker_command(once: bool, poll: float):
        """Run queued jobs (email, later scheduled payments and webhooks)."""
        from .jobs.worker import run_worker

        ran = run_worker(once=once, poll=poll)
        if once:
            click.echo(f"{ran} job(s) run")

    @app.cli.command("billing-run")
    @click.option("--merchant", "slug", default=None,
                  help="Only this merchant's orders (its slug); all merchants without it.")
    def billing_run_command(slug: str | None):
        """Bill every active order whose next billing date has come, now (issue #21): what
        the worker's daily job does, in this process."""
        from sqlalchemy import select

        from .commerce import billing_run
        from .core.extensions import db
        from .tenancy.models import Merchant

        merchant_id = None
        if slug:
            merchant_id = db.session.scalar(select(Merchant.id).where(Merchant.slug == slug))
            if merchant_id is None:
                raise click.BadParameter(f"no merchant with the slug “{slug}”",
                                         param_hint="--merchant")
        result = billing_run.run(merchant_id=merchant_id)  # commits each batch itself
        _finish()
        click.echo(f"{result.invoices} invoice(s) made for {result.orders_seen} due order(s)")

    if not app.config.get("DEMO_ENABLED"):
        return  # no demo command in production

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create or refresh the demo merchant (idempotent)."""
        from .demo.seed import seed_demo

        summary = seed_demo()
        _finish()
        for line in summary:
            click.echo(line)
