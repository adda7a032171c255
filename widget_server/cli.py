"""Flask CLI commands: `flask --app wsgi seed-demo`."""
import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create or refresh the demo merchant (idempotent)."""
        from .demo import seed_demo

        summary = seed_demo()
        for line in summary:
            click.echo(line)
