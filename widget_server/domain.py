"""The one error a service raises for a refused change, whichever face called it (issue #18).

A page shows `errors` (or `message`) next to the fields they name; an API answers with `status`
and the same `{field: message}`. Kept small and free of Flask so any layer can raise it.
"""


class DomainError(Exception):
    """A change refused by a rule: `code` for machines, `message` for people, `field` (one) or
    `errors` ({field: message}, several at once) for where to show it, `status` for HTTP."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None,
                 status: int = 400, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.errors = dict(errors or {})
        if field is not None:
            self.errors.setdefault(field, message)
        self.field = field if field is not None else next(iter(self.errors), None)

    @classmethod
    def invalid(cls, errors: dict[str, str], message: str = "Some values are not valid.",
                code: str = "invalid") -> "DomainError":
        """Many fields refused at once."""
        return cls(message, code=code, errors=errors)

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.errors or self.message!r})"
