"""What every API resource shares: the error body, UTC timestamps, the list envelope and its
cursor (issue #25 item 2), and the statuses an operation documents."""
from datetime import UTC

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from ..web.request_guards import MAX_ID

# Every status an operation may answer besides its success, described once.
STATUS_TEXT = {
    400: "A malformed request (control characters, broken JSON) or one a rule refused.",
    401: "No API key, or a malformed, unknown or revoked one.",
    404: "No such object for this key's merchant.",
    409: "A request with the same Idempotency-Key is still being processed.",
    422: "A value failed validation (`field` names it), or the Idempotency-Key was used with "
         "another request (`idempotency_key_reused`).",
    429: "Too many requests for this key; `Retry-After` says when to retry.",
}


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with a Z: 2026-11-29T20:00:00Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"description": "For machines: `not_found`, "
                                                  "`invalid`, `idempotency_key_reused`…"})
    message = fields.String(required=True, metadata={"description": "For people."})
    field = fields.String(allow_none=True, metadata={
        "description": "The first field at fault (dotted for nested ones), or null."})
    errors = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"description": "Every field at fault, with its message."})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class ListArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100),
                           metadata={"description": "How many objects, 1 to 100."})
    starting_after = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={
        "description": "The cursor: the id of the last object of the previous page."})


class BodySchema(Schema):
    """A request body: a name it does not know is an error, not silently dropped."""

    class Meta:
        unknown = RAISE


def list_schema(item, name: str):
    """The list envelope `{"object": "list", "data": [...], "has_more": bool}` of `item`."""
    return Schema.from_dict({
        "object": fields.Constant("list", required=True),
        "data": fields.List(fields.Nested(item), required=True),
        "has_more": fields.Boolean(required=True, metadata={
            "description": "More follow: ask again with `starting_after` the last id."}),
    }, name=name)


IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string"},
               "description": "Replays this request's first answer for 24 hours (A-3)."}
CREATED_HEADERS = {
    "Location": {"description": "The new object's URL.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "`true` when this is the stored answer to an earlier "
                                           "request with the same Idempotency-Key.",
                            "schema": {"type": "string"}}}

ALWAYS = (400, 401, 429)  # any operation: a malformed request, no key, too many


def answers(blp, *statuses):
    """Document the error statuses an operation may answer (besides 422 from its schemas and
    those of `ALWAYS`), with the error body."""

    def decorate(view):
        for status in sorted({*ALWAYS, *statuses}):
            view = blp.alt_response(status, schema=ErrorSchema,
                                    description=STATUS_TEXT[status])(view)
        return view

    return decorate
