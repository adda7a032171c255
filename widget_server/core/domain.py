"""The one error a service raises for a refused change, whichever face called it (issue #18).

A service raises `DomainError(message, field)` (or many fields at once with `errors`); each face
maps it once: the widget and the admin put the messages next to their form fields
(`widget.forms.show_errors`, `admin.forms.show_errors`), an API answers
`{"code", "message", "field", "errors"}` with `status`, and an uncaught one becomes an error
page with its status, never a 500. Kept free of Flask so any layer can raise it.
"""


class DomainError(Exception):
    """A change refused by a rule: `code` for machines, `message` for people, `field` (one) or
    `errors` ({field: message}, several at once) for where to show it, `status` for HTTP."""

    def __init__(self, message: str, field: str | None = None, *, code: str = "invalid",
                 status: int = 400, errors: dict[str | None, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.errors = dict(errors or {})
        if field is not None or not self.errors:
            self.errors.setdefault(field, message)
        self.field = field if field is not None else next(iter(self.errors), None)

    @classmethod
    def of(cls, errors: dict[str | None, str], *, code: str = "invalid") -> "DomainError":
        """Many fields refused at once; the first one's message is the error's own."""
        field, message = next(iter(errors.items()))
        return cls(message, field, code=code, errors=errors)

    @classmethod
    def invalid(cls, errors: dict[str, str], message: str = "Some values are not valid.",
                code: str = "invalid", status: int = 400) -> "DomainError":
        """Many fields refused at once, under a message of their own."""
        return cls(message, code=code, errors=errors, status=status)

    @property
    def problems(self) -> dict[str | None, str]:
        """Every field's message (None: no single field)."""
        return self.errors

    def as_json(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field,
                "errors": {k or "": v for k, v in self.errors.items()}}

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.errors or self.message!r})"
