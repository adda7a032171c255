"""Profiles in the admin (P-1…P-9): list, create, enable, default, tabs, snippet, delete."""
from urllib.parse import quote, urlencode

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, Length

from ..core.domain import DomainError
from ..profiles import services
from ..profiles.preview import make_token
from ..profiles.tabs import GLOBAL, TABS, TABS_BY_KEY
from ..tenancy import audit
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, show_errors
from . import bp
from .access import current_merchant, permission_required
from .settings_pages import edit_group

MANAGE = Permission.MANAGE_PROFILES


class ProfileIdentityForm(FlaskForm):
    name = TrimmedField("Profile Name", validators=[InputRequired(), Length(max=100)])
    slug = TrimmedField("Profile ID", validators=[InputRequired(), Length(max=63)],
                       description="Used in the embed snippet and URLs: lower-case letters, "
                                   "digits and hyphens, unique among your profiles.")


class ConfirmForm(FlaskForm):
    """An empty form: its only job is the CSRF token on action buttons."""


def _profile_or_404(profile_id: int):
    profile = services.get_profile(current_merchant(), profile_id)
    if profile is None:
        abort(404)
    return profile


def snapshot(profile) -> dict:
    """What the audit log compares before and after a change of the profile itself."""
    return {"name": profile.name, "profile_id": profile.slug, "enabled": profile.enabled,
            "default": profile.is_default}


def _audit(action, profile, before, after):
    audit.changed(current_user, action, audit.subject_of("profile", profile.id), before, after,
                  label=profile.name)


def _identity(form, profile=None):
    """Create or rename; a refused Profile ID shows beside its field."""
    before = snapshot(profile) if profile is not None else None
    try:
        if profile is None:
            profile = services.create_profile(current_merchant(), form.name.data,
                                              form.slug.data)
        else:
            services.update_identity(current_merchant(), profile, form.name.data,
                                     form.slug.data)
    except DomainError as exc:
        show_errors(form, exc, default="name")
        return None
    _audit("profile.changed" if before else "profile.created", profile, before,
           snapshot(profile))
    return profile


def _preview_url(profile) -> str:
    """The widget's preview page for this profile (same origin as the admin, signed token)."""
    merchant = current_merchant()
    return (f"/w/{quote(merchant.slug)}/{quote(profile.slug)}/preview?"
            f"{urlencode({'token': make_token(profile)})}")


@bp.get("/profiles")
@permission_required(MANAGE)
def profiles():
    return render_template("admin/profiles/list.html",
                           profiles=services.list_profiles(current_merchant()),
                           action_form=ConfirmForm())


@bp.route("/profiles/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def profile_new():
    form = ProfileIdentityForm()
    if form.validate_on_submit():
        profile = _identity(form)
        if profile is not None:
            flash(f"Profile “{profile.name}” created.", "success")
            return redirect(url_for("admin.profile_detail", profile_id=profile.id))
    return render_template("admin/profiles/new.html", form=form), 400 if form.errors else 200


@bp.route("/profiles/<id:profile_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def profile_detail(profile_id: int):
    profile = _profile_or_404(profile_id)
    form = ProfileIdentityForm(obj=profile)
    if form.validate_on_submit() and _identity(form, profile) is not None:
        flash("Profile name and ID saved.", "success")
        return redirect(url_for("admin.profile_detail", profile_id=profile.id))
    public_url = current_app.config["PUBLIC_URL"]
    snippet = services.embed_snippet(public_url, current_merchant(), profile)
    preview_url = _preview_url(profile)
    return render_template("admin/profiles/detail.html", profile=profile, form=form, tabs=TABS,
                           action_form=ConfirmForm(), public_url=public_url, snippet=snippet,
                           preview_url=preview_url,
                           merchant=current_merchant()), 400 if form.errors else 200


@bp.post("/profiles/<id:profile_id>/<any(enable, disable, 'make-default'):action>")
@permission_required(MANAGE)
def profile_action(profile_id: int, action: str):
    profile = _profile_or_404(profile_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    before = snapshot(profile)
    try:
        if action == "make-default":
            services.make_default(current_merchant(), profile)
            flash(f"“{profile.name}” is now the default profile.", "success")
        else:
            services.set_enabled(profile, action == "enable")
            flash(f"“{profile.name}” is {'enabled' if profile.enabled else 'disabled'}.",
                  "success")
    except DomainError as exc:
        for message in show_errors(None, exc):
            flash(message, "error")
    else:
        _audit("profile.changed", profile, before, snapshot(profile))
    return redirect(url_for("admin.profile_detail", profile_id=profile.id))


@bp.route("/profiles/<id:profile_id>/delete", methods=["GET", "POST"])
@permission_required(MANAGE)
def profile_delete(profile_id: int):
    profile = _profile_or_404(profile_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        before = snapshot(profile)
        try:
            services.delete_profile(profile)
        except DomainError as exc:
            for message in show_errors(None, exc):
                flash(message, "error")
            return redirect(url_for("admin.profile_detail", profile_id=profile.id))
        _audit("profile.deleted", profile, before, None)
        flash(f"Profile “{profile.name}” deleted.", "success")
        return redirect(url_for("admin.profiles"))
    return render_template("admin/profiles/delete.html", profile=profile, form=form)


@bp.route("/profiles/<id:profile_id>/tabs/<tab_key>", methods=["GET", "POST"])
@permission_required(MANAGE)
def profile_tab(profile_id: int, tab_key: str):
    profile = _profile_or_404(profile_id)
    tab = TABS_BY_KEY.get(tab_key) or abort(404)
    ctx = services.settings_context(current_merchant())
    return edit_group(
        tab, stored=lambda: (profile.settings or {}).get(tab.key), ctx=ctx,
        save=lambda values: services.save_tab(profile, tab, values, ctx),
        audit_as=("profile.tab_changed", audit.subject_of("profile", profile.id),
                  f"{profile.name} · {tab.title}"),
        template="admin/profiles/tab.html",
        redirect_to=url_for("admin.profile_tab", profile_id=profile.id, tab_key=tab.key),
        profile=profile, tabs=TABS,
        preview_url=_preview_url(profile) if tab is GLOBAL else None)
