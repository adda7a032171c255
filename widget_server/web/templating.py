"""The Jinja environment of the app's pages: Flask's, with a cheaper escape on output.

With autoescaping on, every `{{ value }}` of a page compiles to `escape(value)`, and markupsafe's
`escape` wraps each escaped piece in a new `Markup` object only for the page to join them into
one string: a tenth of the invoice list's time (twelve outputs a row, #26). What Jinja does with
an output's value is only ever joining it: yielded into the page, or gathered into a `{% set %}`
block or a macro's body that Jinja then wraps in `Markup` itself. So the compiled templates get
`escaped_text`: the same escaping (markupsafe's own C function, `__html__` honoured), returned
as a plain string. Anything else a template escapes (the `|e` filter, `Markup` operations) is
markupsafe's as before.
"""
from flask.templating import Environment
from jinja2 import Template

from ..core.escaping import escaped_text


class PageTemplate(Template):
    """A template whose compiled code escapes its output with `escaped_text`, and whose
    globals are copied into each render's context from a plain dict."""

    _flat_globals: tuple[int | None, dict, dict] | None = None

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        template = super().from_code(environment, code, globals, uptodate)
        # the module namespace the template's code runs in (its import of jinja2.runtime's
        # `escape` is there): every block and macro of the template shares it
        template.root_render_func.__globals__["escape"] = escaped_text
        return template

    def new_context(self, vars=None, shared=False, locals=None):
        """Jinja's, from a plain copy of the template's globals: they are a ChainMap (the
        template's own over the environment's) that Jinja walked twice in Python for every
        page, a thirtieth of the invoice list (#26). Jinja's contract is that globals are set
        before templates load; the copy is still made again after any change to the
        environment's (`Globals` counts them) or to the template's own."""
        maps = getattr(self.globals, "maps", None)
        if shared or locals or maps is None or len(maps) != 2:
            return super().new_context(vars, shared, locals)
        own, shared_globals = maps
        version = getattr(shared_globals, "version", None)
        kept = self._flat_globals
        if version is None or kept is None or kept[0] != version or kept[1] != own:
            kept = self._flat_globals = (version, dict(own), dict(self.globals))
        flat = kept[2]
        return self.environment.context_class(self.environment, {**flat, **(vars or {})},
                                              self.name, self.blocks, globals=flat)


class Globals(dict):
    """An environment's globals, counting their changes (see `PageTemplate.new_context`)."""

    version = 0

    def _changed(method):  # (a decorator of the class body)
        def changing(self, *args, **kwargs):
            self.version += 1
            return method(self, *args, **kwargs)

        return changing

    __setitem__ = _changed(dict.__setitem__)
    __delitem__ = _changed(dict.__delitem__)
    __ior__ = _changed(dict.__ior__)
    update = _changed(dict.update)
    pop = _changed(dict.pop)
    popitem = _changed(dict.popitem)
    setdefault = _changed(dict.setdefault)
    clear = _changed(dict.clear)
    del _changed


class PageEnvironment(Environment):
    """Flask's environment, its templates `PageTemplate`s (overlays inherit the class and
    share the globals)."""

    template_class = PageTemplate

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.globals = Globals(self.globals)
