"""Serving an issue's attachment, the same for the widget and the admin (#23 item 2): always a
download (`Content-Disposition: attachment` with the sanitised name), with the type its bytes
showed when stored (anything else as `application/octet-stream`), never sniffed, and under a
sandboxing policy should a browser open it anyway. Never cached by shared caches."""
from flask import Response, g

SAFE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg",
                        "text/plain; charset=utf-8"})
POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"


def as_download(attachment) -> Response:
    content_type = (attachment.content_type if attachment.content_type in SAFE_TYPES
                    else "application/octet-stream")
    response = Response(attachment.data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = POLICY
    g.csp_sandbox = True  # the widget writes its own policy: it adds `sandbox` (rendering)
    return response
