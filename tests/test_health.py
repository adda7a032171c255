def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in response.headers


def test_unknown_page_is_a_404_page_not_a_trace(client):
    response = client.get("/admin/no-such-page")
    assert response.status_code == 404
    assert "That page does not exist." in response.get_data(as_text=True)
