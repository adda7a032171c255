"""Flask CLI commands: `flask --app wsgi seed-demo`."""
import click
from flask import Flask


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

    if not app.config.get("DEMO_ENABLED"):
        return  # no demo command in production

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create or refresh the demo merchant (idempotent)."""
        from .core.extensions import db
        from .demo.seed import seed_demo

        summary = seed_demo()
        db.session.commit()
        for line in summary:
            click.echo(line)
