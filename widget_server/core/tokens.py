"""Token substitution for merchant-written texts (I-4): `{{ token }}` and nothing else.

Used by email templates and the invitation defaults in the merchant configuration.
"""
import html
import re

COMMON = ("contact_name", "merchant_name", "portal_link")
LINK_TOKENS = {"portal_link", "create_link", "reset_link", "pay_link", "proposal_link"}

TOKEN_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ANY_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def check_template(text: str, tokens: tuple[str, ...]) -> None:
    """Refuse anything but the allowed tokens; ValueError names what is wrong."""
    for match in ANY_TAG.finditer(text or ""):
        found = match.group(0)
        token = TOKEN_RE.fullmatch(found)
        if token is None or token.group(1) not in tokens:
            allowed = ", ".join("{{ " + t + " }}" for t in tokens)
            raise ValueError(f"“{found[:60]}” is not allowed. Use only these tokens: {allowed}.")
    leftover = ANY_TAG.sub("", text or "")
    if re.search(r"\{\{|\}\}|\{%|%\}|\{#|#\}", leftover):
        raise ValueError("Unbalanced braces: write tokens as {{ contact_name }}.")


def substitute(text: str, values: dict[str, str], *, escape: bool) -> str:
    """Replace the tokens; for HTML (`escape`) values are escaped, and a link token standing in
    text becomes a link, while one inside a tag (`<a href="{{ portal_link }}">`) stays a URL."""
    def value(match):
        raw = str(values.get(match.group(1), ""))
        if not escape:
            return raw
        safe = html.escape(raw)
        in_tag = text.rfind("<", 0, match.start()) > text.rfind(">", 0, match.start())
        if (match.group(1) in LINK_TOKENS and raw.startswith(("https://", "http://"))
                and not in_tag):
            return f'<a href="{safe}">{safe}</a>'
        return safe

    return TOKEN_RE.sub(value, text or "")


