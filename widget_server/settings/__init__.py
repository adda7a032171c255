"""Settings declared once: typed fields grouped into tabs (profiles) or sections (merchant config).

A `Group` is the single source of a tab's defaults, its stored form (JSON), its validation, its
generated admin form and the typed accessor the widget reads. Adding a setting is one line in a
group's declaration.
"""
from .kinds import (
    Boolean,
    Choice,
    Color,
    CustomFieldModes,
    Image,
    Integer,
    MultiChoice,
    OriginList,
    Text,
    Url,
)
from .schema import Group, Setting, SettingsView

__all__ = ["Boolean", "Choice", "Color", "CustomFieldModes", "Group", "Image", "Integer",
           "MultiChoice",
           "OriginList", "Setting", "SettingsView", "Text", "Url"]
