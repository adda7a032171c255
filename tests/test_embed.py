"""The loader and its endpoints through the test client (E-1, E-6, B-3, E-4 fallback)."""
import gzip
import re

from tests.conftest import widget_login
from widget_server.core.extensions import db
from widget_server.profiles.models import SelfServiceProfile
from widget_server.web.embed import LOADER


def test_loader_is_under_2_kb_gzipped():
    assert len(gzip.compress(LOADER.read_bytes(), 9)) < 2048


def test_loader_revalidates_with_an_etag(client):
    first = client.get("/embed/loader.js")
    assert first.status_code == 200
    assert first.mimetype == "text/javascript"
    assert "max-age=300" in first.headers["Cache-Control"]
    assert "public" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    first.close()
    again = client.get("/embed/loader.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    again.close()
    assert "Set-Cookie" not in first.headers


def test_no_script_posts_to_or_accepts_any_origin():
    loader = LOADER.read_text()
    assert "e.origin !== origin" in loader and "e.source !== frame.contentWindow" in loader
    widget_js = (LOADER.parent.parent / "widget_server" / "static" / "widget.js").read_text()
    for source in (loader, widget_js):
        assert not re.search(r"postMessage\([^)]*['\"]\*['\"]", source)


def test_navigation_targets_list_only_the_success_url(app, client, portal):
    p = portal()
    assert client.get(f"/embed/targets/{p.slug}/standard").get_json() == []
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, p.profile_id)
        profile.settings = {"payment": {"success_url": "https://shop.example.com/done?x=1"}}
        db.session.commit()
    response = client.get(f"/embed/targets/{p.slug}/standard")
    assert response.get_json() == ["https://shop.example.com/done"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/embed/targets/nope/standard").status_code == 404


def test_cookie_round_trip_endpoint(app, portal):
    p = portal()
    fresh = app.test_client()
    assert fresh.get(f"{p.base}/cookie-check").get_json() == {"cookies": False, "csrf": None}
    fresh.get(f"{p.base}/login")
    result = fresh.get(f"{p.base}/cookie-check").get_json()
    assert result["cookies"] is True and len(result["csrf"]) > 20


def test_form_posted_without_its_session_offers_a_new_tab(app, portal):
    p = portal()
    blocked = app.test_client()  # never got the cookie, as in a frame whose cookies are blocked
    response = blocked.post(f"{p.base}/login", data={"login": p.username,
                                                     "password": p.password,
                                                     "csrf_token": "anything"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Your browser blocks sign-in inside this frame." in page
    assert f'href="{p.base}/login" target="_blank"' in page


def test_demo_shop_embeds_the_snippet(app, client):
    page = client.get("/demo/shop").get_data(as_text=True)
    public = app.config["PUBLIC_URL"]
    assert f'src="{public}/embed/loader.js" data-merchant="demo" data-profile="default"' in page


def test_logged_in_event_is_handed_to_the_page_once(app, portal):
    p = portal()
    client = app.test_client()
    widget_login(client, p.base, p.username, p.password)
    assert 'data-event="logged-in"' in client.get(f"{p.base}/account").get_data(as_text=True)
    assert "data-event" not in client.get(f"{p.base}/account").get_data(as_text=True)
