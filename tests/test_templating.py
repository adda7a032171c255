"""The pages' template environment escapes output as Jinja with markupsafe does (#26 made its
escaping cheaper): the same text for every kind of value, wherever the output lands."""
from flask_babel import lazy_gettext
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import DictLoader, Environment
from markupsafe import Markup

from widget_server.web.templating import PageEnvironment

TEMPLATE = """{{ value }}|{{ value|e }}|{% set block %}<b>{{ value }}</b>{% endset %}{{ block }}|\
{% macro show(v) %}<i>{{ v }}</i>{% endmacro %}{{ show(value) }}|{{ [value]|join(',') }}|\
{% if value %}{{ value ~ '<' }}{% endif %}|{% macro wrap() %}<u>{{ caller() }}</u>{% endmacro %}\
{% call wrap() %}{{ value }}{% endcall %}|{{ block|upper }}"""


class HtmlObject:
    def __html__(self):
        return "<em>trusted</em>"


class Plain:
    def __str__(self):
        return "a < b & 'c'"


def render_both(value) -> tuple[str, str]:
    """(Jinja with markupsafe's escape, the pages' environment) for one value."""
    loader = DictLoader({"t.html": TEMPLATE})
    reference = Environment(loader=loader, autoescape=True)
    # (Flask's Environment needs an app: the pages' template class on a plain one)
    pages = type("Pages", (Environment,), {"template_class": PageEnvironment.template_class})(
        loader=loader, autoescape=True)
    return (reference.get_template("t.html").render(value=value),
            pages.get_template("t.html").render(value=value))


@given(st.text())
def test_any_text_is_escaped_as_markupsafe_escapes_it(text):
    expected, rendered = render_both(text)
    assert rendered == expected


def test_every_kind_of_value_renders_as_before(app):
    cases = ["<script>alert('x')</script> & \"quoted\"", Markup("<b>safe</b> &amp;"), 0, -42,
             True, None, 3.5, HtmlObject(), Plain(), ["<li>"], {"k": "<v>"}]
    with app.test_request_context():
        cases.append(lazy_gettext("Invoices"))
        for value in cases:
            expected, rendered = render_both(value)
            assert rendered == expected, value


def test_the_apps_pages_use_it_and_still_escape(app):
    """The app's own environment (and a language's overlay of it) escapes a customer's text."""
    assert isinstance(app.jinja_env, PageEnvironment)
    with app.test_request_context():
        template = app.jinja_env.from_string("<p>{{ name }}</p>{{ safe }}")
        overlay = app.jinja_env.overlay().from_string("<p>{{ name }}</p>")
        assert template.render(name="<img src=x onerror=alert(1)>", safe=Markup("<br>")) == (
            "<p>&lt;img src=x onerror=alert(1)&gt;</p><br>")
        assert overlay.render(name="Tom & <Jerry>") == "<p>Tom &amp; &lt;Jerry&gt;</p>"


def test_a_pages_context_holds_what_jinjas_would(app):
    """The render's context is built from a plain copy of the globals (#26): the same names
    and values as Jinja's own, the page's variables over the globals, a global added later
    seen too."""
    from jinja2 import Template

    with app.test_request_context():
        template = app.jinja_env.from_string("{{ greeting }} {{ status_label('paid') }}")
        ours = template.new_context({"greeting": "Hi", "status_label": "shadowed"})
        jinjas = Template.new_context(template, {"greeting": "Hi", "status_label": "shadowed"})
        assert dict(ours.parent) == dict(jinjas.parent) and ours.globals_keys == (
            jinjas.globals_keys)
        assert ours.parent["status_label"] == "shadowed"
        assert template.render(greeting="Hello") == "Hello Paid"
        template.globals["added_later"] = "late"
        try:
            assert template.new_context({})["added_later"] == "late"
        finally:
            del template.globals["added_later"]
        assert "added_later" not in template.new_context({})
        # a global of the environment's replaced after the first render is seen too
        page = app.jinja_env.from_string("{{ brand }}")
        app.jinja_env.globals["brand"] = "A"
        try:
            assert page.render() == "A"
            app.jinja_env.globals["brand"] = "B"
            assert page.render() == "B"
            app.jinja_env.globals.update(brand="C")
            assert page.render() == "C"
        finally:
            del app.jinja_env.globals["brand"]
        assert page.render() == ""


def test_a_translated_sentence_escapes_its_values_as_markup_would(app):
    """`_('…%(x)s', x=…)` in a page fills the sentence in with each value escaped as
    `Markup.__mod__` escapes it (#26 dropped its wrapper per value): numbers stay numbers."""
    from decimal import Decimal

    values = ["<b>Tom</b> & 'Jerry'", Markup("<i>trusted</i>"), 5, 2.5, Decimal("3.10"), None,
              True, HtmlObject(), Plain()]
    with app.test_request_context():
        values.append(lazy_gettext("Invoices"))
        page = app.jinja_env.from_string(
            "{{ _('Hi %(name)s!', name=value) }}|{{ _('%(n)d of %(x).1f', n=n, x=x) }}|"
            "{{ _('100%%') }}")
        for value in values:
            expected = (str(Markup("Hi %(name)s!") % {"name": value}) + "|"
                        + str(Markup("%(n)d of %(x).1f") % {"n": 3, "x": 2.25}) + "|100%")
            assert page.render(value=value, n=3, x=2.25) == expected, value
