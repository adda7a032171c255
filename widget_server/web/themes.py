"""Widget themes: `themes/<name>/templates` override `themes/default/templates`, same for static.

Templates are named `theme:<name>/<path>` so Jinja's cache keeps one compiled template per theme,
and the loader only ever reads inside `themes/`: a theme name cannot reach admin templates.
"""
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from jinja2 import BaseLoader, TemplateNotFound
from jinja2.loaders import split_template_path
from markupsafe import Markup

from ..core.config import PROJECT_DIR

THEMES_DIR = PROJECT_DIR / "themes"
DEFAULT_THEME = "default"
PREFIX = "theme:"


@cache
def available_themes() -> tuple[str, ...]:
    """The themes shipped under themes/, read once per process (asked on every page)."""
    return tuple(sorted(p.name for p in THEMES_DIR.iterdir() if (p / "templates").is_dir()))


def _known(theme: str) -> str:
    return theme if theme in available_themes() else DEFAULT_THEME


def template_name(theme: str, path: str) -> str:
    return f"{PREFIX}{_known(theme)}/{path}"


class ThemeLoader(BaseLoader):
    """Loads `theme:<name>/<path>`, falling back to the default theme's file."""

    def get_source(self, environment, template):
        if not template.startswith(PREFIX):
            raise TemplateNotFound(template)
        theme, _, path = template[len(PREFIX):].partition("/")
        pieces = split_template_path(path)  # refuses '..'
        for candidate in dict.fromkeys((theme, DEFAULT_THEME)):
            file = THEMES_DIR / candidate / "templates" / Path(*pieces)
            if file.is_file():
                source = file.read_text(encoding="utf-8")
                mtime = file.stat().st_mtime
                return source, str(file), lambda f=file, m=mtime: f.stat().st_mtime == m
        raise TemplateNotFound(template)


bp = Blueprint("themes", __name__)


@bp.get("/theme/<theme>/<path:filename>")
def static_file(theme: str, filename: str):
    """A theme's static file, else the default theme's; cached for an hour (no session)."""
    for candidate in dict.fromkeys((_known(theme), DEFAULT_THEME)):
        folder = THEMES_DIR / candidate / "static"
        if (folder / filename).is_file():
            return send_from_directory(folder, filename, max_age=3600)
    abort(404)


def css_variables(look) -> Markup:
    """The Global tab's colours and font as CSS custom properties (values are validated hex
    colours and a fixed set of fonts, so nothing here comes raw from a person)."""
    fonts = {"system": 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
             "serif": 'Georgia, "Times New Roman", serif',
             "rounded": '"Nunito", "Segoe UI Rounded", system-ui, sans-serif',
             "mono": 'ui-monospace, "SFMono-Regular", Menlo, monospace'}
    # Safe: colours are validated #rrggbb on load, fonts come from the fixed table above.
    return Markup(f":root{{--primary:{look.primary_color};--text:{look.text_color};"  # noqa: S704
            f"--bg:{look.background_color};--font:{fonts.get(look.font, fonts['system'])}}}")
