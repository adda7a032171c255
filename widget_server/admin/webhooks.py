"""Webhook endpoints (issue #25 item 5, A-2): add one (its `whsec_` signing secret shown once,
on the answer to the POST, like an API key's), change its URL, event types or switch, rotate
its secret (shown once again), delete it; its delivery log with "Send again". Audited, the
secret never written to the log (only masked)."""
import secrets

from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectMultipleField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.domain import DomainError
from ..tenancy import audit
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, TrimmedURLField, select_choices, show_errors
from ..webhooks import services as webhooks
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_API_KEYS
USED = "webhook_forms_used"  # the `once` values of the forms already sent (see api_keys)


class EndpointForm(FlaskForm):
    url = TrimmedURLField("URL", validators=[InputRequired(), Length(max=2000)],
                          description="Where events are POSTed: https:// (http only for "
                                      "localhost in development).",
                          render_kw={"placeholder": "https://"})
    description = TrimmedField("Description", validators=[Optional(), Length(max=200)])
    event_types = SelectMultipleField("Events", validators=[Optional()],
                                      choices=select_choices((t, t) for t in webhooks.EVENT_TYPES),
                                      option_widget=CheckboxInput(),
                                      widget=ListWidget(prefix_label=False))
    enabled = BooleanField("Enabled", default=True)
    once = HiddenField(validators=[Optional(), Length(max=64)])


class ActionForm(FlaskForm):
    """CSRF token only (rotate, delete, send again)."""


def _audit(action, endpoint, before, after):
    audit.changed(current_user, action, audit.subject_of("webhook_endpoint", endpoint.id),
                  before, after, label=endpoint.url)


def _endpoint_or_404(endpoint_id: int):
    return webhooks.get_endpoint(current_merchant(), endpoint_id) or abort(404)


def _first_send(form) -> bool:
    """False when this rendered form was sent already (a reload of the secret's page)."""
    used = session.get(USED, [])
    if form.once.data and form.once.data in used:
        flash("That form was sent already; its secret was shown only then.", "info")
        return False
    session[USED] = [*used, form.once.data or ""][-20:]
    return True


@bp.route("/webhooks", methods=["GET", "POST"], endpoint="webhooks")
@permission_required(MANAGE)
def webhooks_page():
    merchant = current_merchant()
    form = EndpointForm()
    created = None
    if form.validate_on_submit():
        if not _first_send(form):
            return redirect(url_for("admin.webhooks"))
        try:
            created = webhooks.create_endpoint(merchant, form.url.data, form.description.data,
                                               form.event_types.data)
        except DomainError as exc:
            show_errors(form, exc, default="url")
        else:
            _audit("webhook_endpoint.created", created, None, webhooks.state(created))
            form = EndpointForm(formdata=None)
    form.once.data = secrets.token_urlsafe(16)
    return render_template("admin/webhooks.html", form=form, created=created,
                           endpoints=webhooks.list_endpoints(merchant)), 400 if form.errors else 200


@bp.route("/webhooks/<id:endpoint_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def webhook_endpoint(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointForm(obj=endpoint)
    if form.validate_on_submit():
        before = webhooks.state(endpoint)
        try:
            webhooks.update_endpoint(endpoint, form.url.data, form.description.data,
                                     form.event_types.data, form.enabled.data)
        except DomainError as exc:
            show_errors(form, exc, default="url")
        else:
            _audit("webhook_endpoint.changed", endpoint, before, webhooks.state(endpoint))
            flash("Webhook endpoint saved.", "success")
            return redirect(url_for("admin.webhook_endpoint", endpoint_id=endpoint.id))
    return render_template("admin/webhook_endpoint.html", endpoint=endpoint, form=form,
                           action_form=ActionForm(), secret=None,
                           deliveries=webhooks.deliveries(endpoint)), 400 if form.errors else 200


@bp.route("/webhooks/<id:endpoint_id>/rotate", methods=["POST"])
@permission_required(MANAGE)
def webhook_rotate(endpoint_id: int):
    """The answer is the page showing the new secret once (never through the session)."""
    endpoint = _endpoint_or_404(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    old = endpoint.secret
    secret = webhooks.rotate_secret(endpoint)
    _audit("webhook_endpoint.secret_rotated", endpoint, {"secret": old}, {"secret": secret})
    # the endpoint's form as saved, not read from this POST (which carries only its token:
    # every event and "Enabled" would show unticked, and a Save would switch it off)
    return render_template("admin/webhook_endpoint.html", endpoint=endpoint,
                           form=EndpointForm(formdata=None, obj=endpoint),
                           action_form=ActionForm(), secret=secret,
                           deliveries=webhooks.deliveries(endpoint))


@bp.route("/webhooks/<id:endpoint_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def webhook_delete(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    _audit("webhook_endpoint.deleted", endpoint, webhooks.state(endpoint), None)
    webhooks.delete_endpoint(endpoint)
    flash(f"Webhook endpoint {endpoint.url} deleted.", "success")
    return redirect(url_for("admin.webhooks"))


@bp.route("/webhooks/<id:endpoint_id>/deliveries/<id:delivery_id>/resend", methods=["POST"])
@permission_required(MANAGE)
def webhook_resend(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        webhooks.send_again(current_merchant(), delivery_id, endpoint)
    except DomainError:
        abort(404)
    flash("Delivery queued to be sent again.", "success")
    return redirect(url_for("admin.webhook_endpoint", endpoint_id=endpoint.id))
