"""The admin start page."""
from flask import render_template
from flask_login import login_required

from . import bp
from .access import current_merchant


@bp.get("/")
@login_required
def index():
    return render_template("admin/index.html", merchant=current_merchant())
