"""One generic handler for every declared settings group: profile tabs and config sections."""
from flask import flash, redirect, render_template
from flask_login import current_user

from ..core.domain import DomainError
from ..core.extensions import db
from ..tenancy import audit


def edit_group(group, *, stored, ctx, save, template, redirect_to, audit_as, **context):
    """Show the group's generated form prefilled from `stored()` (the group's stored values);
    on a valid POST call `save` with the form's values, and audit the change as `audit_as`
    (action, subject, label), the values before against those stored after. An invalid POST
    saves nothing and shows each message beside its field, whether the form or the service
    (which checks every writer again) refused it."""
    values = group.load(stored(), ctx)
    form = group.form_class(ctx)(data=group.form_data(values, ctx))
    if form.validate_on_submit():
        try:
            save(group.values_from(form, ctx))
        except DomainError as exc:  # the declaration's clean run again by the service, or a
            # rule only the service can check (a Stripe account another merchant has)
            db.session.rollback()  # as form_fields.show_errors: nothing half-saved
            for message in group.show_errors(form, exc.errors or {"": exc.message}, ctx):
                flash(message, "error")
            form.form_errors.append(exc.message)
        else:
            action, subject, label = audit_as
            audit.changed(current_user, action, subject, values, group.load(stored(), ctx),
                          label=label)
            flash(f"{group.title} settings saved.", "success")
            return redirect(redirect_to)
    status = 400 if form.errors else 200
    return render_template(template, form=form, group=group, ctx=ctx, stored=values,
                           **context), status
