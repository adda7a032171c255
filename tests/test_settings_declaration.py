"""The six tabs declared once: defaults, validation, storage round trip, custom field modes."""
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from widget_server.profiles.tabs import CUSTOMER, GLOBAL, PAYMENT, TABS
from widget_server.tenancy.configuration import EMBEDDING, SECTIONS

SPEC_LABELS = {
    "payment": ["Allow Payments", "Show Payments", "Payment Method", "Payment Options: amount",
                "Payment Options: invoice choice", "Credit Card/ACH Mode", "Success URL",
                "Edit Effective Date"],
    "customer": ["Show Navigation Bar", "Allow Profile Edit", "Allow Logout",
                 "Enable Customer Billing Run", "Phone Number Required",
                 "Custom Field Parameters"],
    "order": ["Allow New Order", "Allow Cancel Order", "Cancel Order takes effect",
              "Allow Add Sales Agent", "Allow Plan Change"],  # the mode and plan change: #21
    "invoice": ["Show Invoices", "Allow New Invoice", "Enable PDF Mode Only"],
    "cart": ["Enable Shopping Cart in iFrame", "Enable Guest Checkout Without Registration",
             "Shopping Cart Stylesheet URL"],
    "global": ["Theme", "Primary colour", "Text colour", "Background colour", "Font",
               "Logo", "Forgot Password URL", "Show Proposals section",
               "Show Issues section",
               "Password sign-in"],  # E-8 (#25): single sign-on only, when off
}


def _form(group, data, ctx=None):
    """Validate `data` through the group's generated form, as a POST would (no CSRF layer)."""
    form = group.form_class(ctx, base=Form)(formdata=MultiDict(data))
    return form, form.validate()


def _post_data(group, values, ctx=None):
    """Form data a browser would send for `values` (checkboxes omitted when off)."""
    data = []
    for name, value in group.form_data(values, ctx).items():
        if value is True:
            data.append((name, "y"))
        elif value is False:
            continue
        elif isinstance(value, list):
            data.extend((name, v) for v in value)
        else:
            data.append((name, value))
    return data


def test_every_spec_setting_is_declared_with_its_label():
    assert [tab.key for tab in TABS] == list(SPEC_LABELS)
    for tab in TABS:
        assert [s.label for s in tab.settings] == SPEC_LABELS[tab.key]


def test_defaults_are_read_when_nothing_is_stored():
    view = PAYMENT.view(None)
    assert view.allow_payments is True
    assert view.payment_methods == ["card", "ach"]
    assert view.payment_amount == "balance"
    assert view.success_url == ""
    assert GLOBAL.view({}).primary_color == "#0b5cad"


def test_unknown_setting_is_an_error_not_false():
    with pytest.raises(AttributeError):
        PAYMENT.view(None).allow_paymnts  # noqa: B018


def test_stored_values_that_no_longer_fit_fall_back_to_defaults():
    view = PAYMENT.view({"allow_payments": "yes", "payment_amount": "everything",
                         "payment_methods": ["card", "bitcoin"]})
    assert view.allow_payments is True  # a string is not a boolean
    assert view.payment_amount == "balance"
    assert view.payment_methods == ["card"]


@pytest.mark.parametrize("group", TABS + SECTIONS, ids=lambda g: g.key)
def test_defaults_round_trip_through_the_form(group):
    ctx = SimpleNamespace(custom_fields=[SimpleNamespace(id=7, name="Region")])
    values = group.load(None, ctx)
    form, ok = _form(group, _post_data(group, values, ctx), ctx)
    assert ok, form.errors
    assert group.load(group.values_from(form, ctx), ctx) == values


def test_changed_values_round_trip_through_form_and_storage():
    stored = {"allow_payments": False, "payment_methods": ["ach"], "payment_amount": "any",
              "invoice_choice": "all", "card_ach_mode": "force_autopay",
              "success_url": "https://shop.example.com/thanks", "show_payments": True,
              "edit_effective_date": True}
    form, ok = _form(PAYMENT, _post_data(PAYMENT, PAYMENT.load(stored)))
    assert ok, form.errors
    assert PAYMENT.values_from(form) == stored


@pytest.mark.parametrize(("data", "field", "message"), [
    ([("payment_amount", "everything")], "payment_amount", "Not a valid choice"),
    ([("payment_amount", "any")], "payment_methods", "Pick at least one."),
    ([("payment_methods", "card"), ("payment_methods", "paypal")], "payment_methods",
     "not a valid choice"),
    ([("success_url", "http://shop.example.com/")], "success_url", "https://"),
    ([("success_url", "javascript:alert(1)")], "success_url", "complete URL"),
    ([("success_url", "https://" + "a" * 2000 + ".com")], "success_url", "2000"),
])
def test_bad_payment_input_is_refused_with_a_message(data, field, message):
    base = dict(_post_data(PAYMENT, PAYMENT.load(None)))
    base.pop("payment_methods", None)
    merged = MultiDict([(k, v) for k, v in base.items() if k not in dict(data)] + data)
    if field != "payment_methods" and "payment_methods" not in merged:
        merged.add("payment_methods", "card")
    form, ok = _form(PAYMENT, merged)
    assert not ok
    assert message.lower() in " ".join(form.errors[field]).lower()


@pytest.mark.parametrize("url", ["http://localhost:5000/ok", "http://127.0.0.1/ok",
                                 "http://[::1]:8080/ok", "https://shop.example.com/ok"])
def test_https_or_loopback_urls_are_accepted(url):
    data = _post_data(PAYMENT, {**PAYMENT.load(None), "success_url": url})
    form, ok = _form(PAYMENT, data)
    assert ok, form.errors


def test_low_contrast_colours_are_refused_with_the_ratio():
    values = {**GLOBAL.load(None), "primary_color": "#aaaaaa"}
    form, ok = _form(GLOBAL, _post_data(GLOBAL, values))
    assert not ok
    assert "2.32:1" in form.errors["primary_color"][0]
    assert "4.5:1" in form.errors["primary_color"][0]


def test_custom_field_modes_follow_the_definitions():
    region, tier = SimpleNamespace(id=1, name="Region"), SimpleNamespace(id=2, name="Tier")
    stored = {"custom_field_parameters": {"1": "hidden", "9": "read_write"}}
    ctx = SimpleNamespace(custom_fields=[region, tier])
    modes = CUSTOMER.load(stored, ctx)["custom_field_parameters"]
    assert modes == {"1": "hidden", "2": "read_only"}  # 9 was removed; 2 is new → default

    form_cls = CUSTOMER.form_class(ctx, base=Form)
    assert {"custom_field_1", "custom_field_2"} <= set(form_cls()._fields)
    data = _post_data(CUSTOMER, {**CUSTOMER.load(stored, ctx),
                                 "custom_field_parameters": {"1": "read_write", "2": "hidden"}},
                      ctx)
    form, ok = _form(CUSTOMER, data, ctx)
    assert ok, form.errors
    assert CUSTOMER.values_from(form, ctx)["custom_field_parameters"] == {
        "1": "read_write", "2": "hidden"}

    bad = [(k, v) for k, v in data if k != "custom_field_2"] + [("custom_field_2", "editable")]
    form, ok = _form(CUSTOMER, bad, ctx)
    assert not ok and "custom_field_2" in form.errors


def test_allowed_origins_are_origins_with_the_https_rule():
    form, ok = _form(EMBEDDING, [("allowed_origins",
                                 "https://Shop.Example.com\nhttp://localhost:8000\n")])
    assert ok, form.errors
    assert EMBEDDING.values_from(form)["allowed_origins"] == [
        "https://shop.example.com", "http://localhost:8000"]
    for bad, message in [("http://shop.example.com", "https://"),
                         ("https://shop.example.com/path", "not an origin"),
                         ("shop.example.com", "complete URL")]:
        form, ok = _form(EMBEDDING, [("allowed_origins", bad)])
        assert not ok
        assert message in form.errors["allowed_origins"][0]
