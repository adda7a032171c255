"""Static files sent gzip-compressed to browsers that accept it (SPEC B-3: a widget page under
30 KB transferred, its stylesheet and script included; the invoice list's page of twenty rows
came to 33 KB with them sent as they are, #26).

A file is compressed once per version: the compressed bytes are kept by the file's ETag
(werkzeug's, made of its modification time, size and name), so a request costs a lookup.
Pages are left as they are: each is new, compressing every one would cost more of the
server's time than it saves on the wire, and a proxy in front may compress them anyway.

The compressed body is another representation of the same file. It carries the file's ETag
as a weak one (If-None-Match compares weakly, RFC 9110 13.1.2, so either representation
revalidates to a 304), every answer says `Vary: Accept-Encoding` so caches keep the two apart,
and byte ranges are offered on the uncompressed one only. A HEAD answers with the headers its
GET would have.
"""
import gzip

from flask import Response, request

# the endpoints that serve files: Flask's and each blueprint's `static`, and the themes'
FILE_ENDPOINTS = frozenset({"static", "themes.static_file"})
COMPRESSIBLE = frozenset({"text/css", "text/javascript", "application/javascript",
                          "application/json", "image/svg+xml", "text/plain"})
SMALLEST = 1024  # below it, gzip's header and a round of its dictionary gain little
_KEPT = 256  # files remembered; past it, start again (a deployment serves a few dozen)
_GZIPPED: dict[str, bytes] = {}


def _serves_a_file(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint in FILE_ENDPOINTS or endpoint.endswith(".static"))


def compress_static_file(response: Response) -> Response:
    if not _serves_a_file(request.endpoint):
        return response
    response.vary.add("Accept-Encoding")
    if (request.method not in ("GET", "HEAD") or "Content-Encoding" in response.headers
            or not request.accept_encodings["gzip"]):
        return response
    etag, _weak = response.get_etag()
    if etag is None:
        return response
    if response.status_code == 304:  # revalidated: the ETag the 200 would have carried
        if etag in _GZIPPED:
            response.set_etag(etag, weak=True)
        return response
    if response.status_code != 200 or response.mimetype not in COMPRESSIBLE:
        return response
    body = _GZIPPED.get(etag)
    if body is None:
        response.direct_passthrough = False  # (read the file: it is sent from memory now)
        plain = response.get_data()
        if len(plain) < SMALLEST:
            return response
        if len(_GZIPPED) >= _KEPT:
            _GZIPPED.clear()
        body = _GZIPPED[etag] = gzip.compress(plain, compresslevel=9, mtime=0)
    else:
        opened = getattr(response.response, "close", None)
        if opened is not None:  # the file send_file opened, unread: closed with the answer
            response.call_on_close(opened)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)
    response.set_etag(etag, weak=True)
    return response
