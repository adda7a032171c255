"""Static files sent compressed to browsers that accept it (B-3, #26): the same bytes once
decompressed, a representation caches and revalidation tell apart, compressed once per version
of a file; pages and everything else as before."""
import gzip
from pathlib import Path

import pytest

import widget_server
from widget_server.web import themes

SCRIPT = ("/static/widget.js", Path(widget_server.__file__).parent / "static" / "widget.js")
STYLESHEET = ("/theme/default/widget.css", themes.THEMES_DIR / "default" / "static" / "widget.css")
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}


def _get(client, url, **headers):
    response = client.get(url, headers=headers)
    response.get_data()  # read, then the file closed
    response.close()
    return response


@pytest.mark.parametrize("url, file", [SCRIPT, STYLESHEET])
def test_a_browser_gets_the_script_and_the_stylesheet_compressed(app, url, file):
    client = app.test_client()
    plain, packed = _get(client, url), _get(client, url, **BROWSER)
    assert plain.data == file.read_bytes() and "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == file.read_bytes()
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 2
    for response in (plain, packed):
        assert "Accept-Encoding" in response.headers["Vary"]
    assert packed.headers["ETag"] == "W/" + plain.headers["ETag"]
    assert "Accept-Ranges" not in packed.headers
    for header in ("Content-Type", "Cache-Control", "Last-Modified"):
        assert packed.headers.get(header) == plain.headers.get(header)
    assert _get(client, url, **BROWSER).data == packed.data  # (from memory the second time)


@pytest.mark.parametrize("accepts", ["", "identity", "br", "gzip;q=0", "deflate, gzip;q=0"])
def test_a_client_not_accepting_gzip_gets_the_file_as_it_is(app, accepts):
    response = _get(app.test_client(), SCRIPT[0], **{"Accept-Encoding": accepts})
    assert "Content-Encoding" not in response.headers
    assert response.data == SCRIPT[1].read_bytes()


def test_either_representation_revalidates_with_a_304_naming_its_own_etag(app):
    client = app.test_client()
    plain, packed = _get(client, SCRIPT[0]), _get(client, SCRIPT[0], **BROWSER)
    for etag in (plain.headers["ETag"], packed.headers["ETag"]):
        for accepts, named in (({}, plain), (BROWSER, packed)):
            again = _get(client, SCRIPT[0], **{"If-None-Match": etag}, **accepts)
            assert again.status_code == 304 and not again.data
            assert again.headers["ETag"] == named.headers["ETag"]
            assert "Accept-Encoding" in again.headers["Vary"]


def test_a_head_answers_with_the_headers_of_its_get(app):
    client = app.test_client()
    for accepts in ({}, BROWSER):
        got = _get(client, SCRIPT[0], **accepts)
        head = client.head(SCRIPT[0], headers=accepts)
        assert not head.data
        for header in ("Content-Encoding", "Content-Length", "ETag", "Vary", "Content-Type"):
            assert head.headers.get(header) == got.headers.get(header), header


def test_a_byte_range_is_served_from_the_file_as_it_is(app):
    response = _get(app.test_client(), SCRIPT[0], Range="bytes=0-99", **BROWSER)
    assert response.status_code == 206 and "Content-Encoding" not in response.headers
    assert response.data == SCRIPT[1].read_bytes()[:100]


def test_a_changed_file_is_compressed_anew_and_a_small_one_not_at_all(app, tmp_path,
                                                                       monkeypatch):
    static = tmp_path / "default" / "static"
    static.mkdir(parents=True)
    monkeypatch.setattr(themes, "THEMES_DIR", tmp_path)
    client = app.test_client()
    sheet = static / "site.css"
    for rule in ("a { color: red; }\n", "b { color: blue; margin: 0 auto; }\n"):
        sheet.write_text(rule * 100)
        response = _get(client, "/theme/default/site.css", **BROWSER)
        assert gzip.decompress(response.data) == sheet.read_bytes()
    (static / "tiny.css").write_text("a{}")
    tiny = _get(client, "/theme/default/tiny.css", **BROWSER)
    assert "Content-Encoding" not in tiny.headers and tiny.data == b"a{}"


def test_pages_and_the_api_are_not_compressed(app, portal):
    p = portal()
    client = app.test_client()
    for url in (f"{p.base}/login", "/embed/loader.js", "/api/v1/openapi.json", "/healthz"):
        response = _get(client, url, **BROWSER)
        assert "Content-Encoding" not in response.headers, url
