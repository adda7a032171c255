"""How two customer records are recognised as one person (issue #23 item 5): names folded
(case, accents, whitespace) and phone numbers reduced to their digits.

Pure functions with no database: the `Customer` table keeps `duplicate_key` and `search_text`
from them on every write, and the migrations that added the columns filled them with the same
code.
"""
import re
import unicodedata

NOT_DIGITS = re.compile(r"[^0-9]")  # ASCII digits only: "٣" is no phone digit here
KEY_LENGTH = 200
SEARCH_LENGTH = 600


# Letters Unicode does not decompose into a base letter and an accent, as a reader of the
# language types them on a plain keyboard ("lukasiewicz" for "Łukasiewicz", "orsted").
UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i",
                              "ŀ": "l", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"})


def fold(text: str | None) -> str:
    """"  Zoë  DOE " and "zoe doe" alike, "Łukasiewicz" and "lukasiewicz" too: accents
    dropped, case folded, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().translate(UNDECOMPOSED).split())


def phone_digits(phone: str | None) -> str:
    """"+1 (555) 010-0100" → "15550100100"."""
    return NOT_DIGITS.sub("", unicodedata.normalize("NFKC", phone or ""))


def duplicate_key(first_name: str | None, last_name: str | None, phone: str | None) -> str | None:
    """"jane doe|15550100": the same for two records with the same folded name and the same
    phone digits; None without a name or a phone (a name alone is no evidence)."""
    name, digits = fold(f"{first_name or ''} {last_name or ''}"), phone_digits(phone)
    if not name or not digits:
        return None
    return f"{name}|{digits}"[:KEY_LENGTH]


def search_text(first_name: str | None, last_name: str | None, company: str | None,
                username: str | None) -> str:
    """What the admin's customer search reads (issue #24 item 2): name, company and username
    folded, so "lukas" finds "Łukasiewicz" with a plain LIKE on SQLite and PostgreSQL alike."""
    return fold(" ".join(p for p in (first_name, last_name, company, username) if p))[
        :SEARCH_LENGTH]
