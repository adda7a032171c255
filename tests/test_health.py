def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in response.headers


def test_unknown_page_is_a_404_page_not_a_trace(client):
    response = client.get("/admin/no-such-page")
    assert response.status_code == 404
    assert "That page does not exist." in response.get_data(as_text=True)


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(app, monkeypatch):
    """PROXY_FIX_HOPS from the environment installs ProxyFix (rate limits see the customer,
    not the proxy); unset, a forged X-Forwarded-For is ignored."""
    from flask import request

    from widget_server import create_app

    monkeypatch.setenv("PROXY_FIX_HOPS", "1")
    behind = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "RATELIMIT_ENABLED": False})
    seen = []
    for flask_app in (behind, app):
        flask_app.before_request_funcs.setdefault(None, []).insert(
            0, lambda: seen.append(request.remote_addr))
        flask_app.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"},
                                    environ_base={"REMOTE_ADDR": "10.0.0.2"})
        flask_app.before_request_funcs[None].pop(0)
    from widget_server.core.extensions import db

    with behind.app_context():
        db.engine.dispose()  # the second app's pooled connection, closed now rather than by GC
    assert seen == ["203.0.113.9", "10.0.0.2"]
