"""WCAG 2.2 contrast (B-4): a branding colour pair below AA is refused with its ratio."""


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def contrast_check(foreground: str, background: str, what: str, minimum: float = 4.5):
    """A group check: `foreground` on `background` must reach `minimum` (AA for text: 4.5).

    Either side may be a literal colour ("#ffffff": the white text on buttons) instead of a key;
    the message goes to the first side that is a setting.
    """
    field = foreground if not foreground.startswith("#") else background

    def check(values: dict) -> dict[str, str]:
        fg = foreground if foreground.startswith("#") else values.get(foreground)
        bg = background if background.startswith("#") else values.get(background)
        if not fg or not bg:
            return {}
        ratio = contrast_ratio(fg, bg)
        if ratio + 1e-9 < minimum:
            return {field: f"{what} has a contrast ratio of {ratio:.2f}:1; WCAG AA needs at "
                           f"least {minimum}:1."}
        return {}

    return check
