"""Input rules shared by every form and service: emails, merchant-entered URLs, origins, slugs.

Each rule is a plain function that returns the normalised value or raises `ValueError` with the
message a person sees next to the field; `wtf()` wraps any of them as a WTForms validator.
"""
import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from wtforms.validators import ValidationError

from .domain import DomainError
from .i18n import gettext as _
from .i18n import ngettext

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def email_address(value: str) -> str:
    """A syntactically valid address, normalised (domain lower-cased).

    `test_environment` accepts the reserved `.test` domain used by the demo and tests; no DNS
    lookup is made (a request must never wait on the network to validate a form).
    """
    try:
        result = validate_email(value.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(_("“%(address)s” is not a valid email address.",
                           address=value.strip())) from exc
    return result.normalized


def email_list(value: str) -> list[str]:
    """Several addresses separated by commas, semicolons or new lines; duplicates dropped."""
    parts = [p.strip() for p in re.split(r"[,;\n\r]+", value or "") if p.strip()]
    seen, out, errors = set(), [], []
    for part in parts:
        try:
            address = email_address(part)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if address.lower() not in seen:
            seen.add(address.lower())
            out.append(address)
    if errors:
        raise ValueError(" ".join(errors))
    return out


def primary_emails(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """A Primary Email list (C-2): `email_list`, given as text or as a list, with at least one
    address. Blanks and separators alone are no address: a customer without one gets no
    receipts and cannot reset a password (issue #19-8)."""
    if not isinstance(value, str):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError("Give a list of email addresses.")
        value = "\n".join(value)
    addresses = email_list(value)
    if not addresses:
        raise ValueError(_("Enter at least one email address."))
    return addresses


DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Characters that have no business in a URL a merchant types, and that could break out of a
# header (CSP, Location) or an HTML attribute if they ever reached one unencoded.
UNSAFE_URL_CHARS = set(" \t\r\n\"'<>\\^`{|};,")


def _valid_host(host: str) -> bool:
    """A DNS name (IDNA allowed) or an IP address; no wildcards, no empty labels."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(DNS_LABEL.match(label) for label in labels)


def secure_url(value: str) -> str:
    """An absolute https URL; plain http only for localhost, 127.0.0.1 and [::1] (T-3)."""
    value = value.strip()
    message = "Enter a complete URL, such as https://example.com/thanks."
    if any(ch in UNSAFE_URL_CHARS or ord(ch) < 32 for ch in value):
        raise ValueError("The URL contains spaces, quotes or other characters that are not "
                         "allowed; percent-encode them.")
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError as exc:
        raise ValueError(message) from exc
    if parts.scheme not in {"http", "https"} or not host or not _valid_host(host):
        raise ValueError(message)
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("The URL must not contain a user name or password.")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError("The URL must start with https:// (plain http is allowed only for "
                         "localhost, 127.0.0.1 and [::1]).")
    return value


def origin(value: str) -> str:
    """An origin (scheme://host[:port]) with the same https rule as `secure_url`."""
    value = secure_url(value).rstrip("/")
    parts = urlsplit(value)
    if parts.path or parts.query or parts.fragment:
        raise ValueError(f"“{value}” is not an origin: give only scheme://host[:port], "
                         "without a path.")
    host = parts.hostname or ""
    # IPv6 literals keep their brackets; names go to punycode, as CSP and Origin headers speak it
    host = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def origin_list(value: str) -> list[str]:
    """One origin per line (or comma-separated); each checked, duplicates dropped."""
    out, errors = [], []
    for part in re.split(r"[,\s]+", value or ""):
        if not part:
            continue
        try:
            item = origin(part)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if item not in out:
            out.append(item)
    if errors:
        raise ValueError(" ".join(errors))
    return out


def slug(value: str) -> str:
    """A URL-safe identifier: lower-case letters, digits and hyphens, 1–63 characters."""
    value = (value or "").strip()
    if not SLUG_RE.match(value):
        raise ValueError("Use 1–63 lower-case letters, digits and hyphens (not at either end).")
    return value


# Unicode categories no single-line value may hold: control characters (C0 and C1: CR, LF, tab,
# NUL, NEL…) and the line and paragraph separators. Mail headers, CSV cells and log lines all
# take them as line breaks: a merchant name with CR/LF broke every email of that merchant.
NOT_SINGLE_LINE = frozenset({"Cc", "Zl", "Zp"})
SINGLE_LINE_MESSAGE = "Use a single line of text, without line breaks or control characters."


def single_line_message() -> str:
    """SINGLE_LINE_MESSAGE in the customer's language (English outside the widget)."""
    return _("Use a single line of text, without line breaks or control characters.")


def is_single_line(value: str) -> bool:
    return not any(unicodedata.category(ch) in NOT_SINGLE_LINE for ch in value)


def single_line(value: str) -> str:
    """A single-line value (a name, username, subject…): no control characters (issue #19-11)."""
    if not isinstance(value, str):
        raise ValueError("Must be text.")
    if not is_single_line(value):
        raise ValueError(single_line_message())
    return value


def require_single_line(**values: str | None) -> None:
    """The services' check before they write single-line fields: `DomainError` naming every
    field that holds a control character (None and "" pass)."""
    errors = {field: single_line_message() for field, value in values.items()
              if isinstance(value, str) and not is_single_line(value)}
    if errors:
        raise DomainError.of(errors)


def strip(value):
    """WTForms filter: surrounding white space never counts as input ("   " is empty)."""
    return value.strip() if isinstance(value, str) else value


def local_path(target: str | None, prefix: str = "/") -> bool:
    """True for a path on this site under `prefix`: never `//host`, a scheme, a backslash or a
    line break, so following it after sign-in cannot leave the site (no open redirect)."""
    if not target or any(ch in target for ch in "\r\n\\"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith(prefix) \
        and not target.startswith("//")


def wtf(rule, *, optional: bool = True):
    """Wrap a rule as a WTForms validator; empty input passes when `optional`."""

    def validator(form, field):
        if optional and not (field.data or "").strip():
            return
        try:
            rule(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    return validator


# Letters of any script (accents included), joined by spaces, hyphens or apostrophes (C-11).
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '’\-][^\W\d_]+)*$")
PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()./\-]+$")


def person_name(value: str, minimum: int, what: str) -> str:
    """A first or last name: letters (accents too), hyphens, apostrophes and spaces only."""
    value = unicodedata.normalize("NFC", " ".join((value or "").split()))
    letters = sum(ch.isalpha() for ch in value)
    if letters < minimum:
        raise ValueError(ngettext("%(what)s needs at least %(num)d letter.",
                                  "%(what)s needs at least %(num)d letters.", minimum,
                                  what=what))
    if not NAME_RE.match(value):
        raise ValueError(_("%(what)s may contain only letters, spaces, hyphens and apostrophes.",
                           what=what))
    return value


def phone(value: str) -> str:
    """A phone number: digits with optional +, spaces, dots, hyphens, brackets; 7–15 digits."""
    value = " ".join((value or "").split())
    digits = sum(ch.isdigit() for ch in value)
    if not PHONE_ALLOWED.match(value) or not 7 <= digits <= 15:
        raise ValueError(_("Enter a phone number of 7 to 15 digits, such as +1 555 010 0199."))
    return value
