"""`make screenshots` (issue #20 item 10) names pages the app still has: each path of the
script's list resolves to a real route, not to the widget's catch-all 404 (the script itself
drives Chromium and is run by hand, not here)."""
from bench.screenshots import SHOTS


def test_every_screenshot_page_is_a_route(app):
    adapter = app.url_map.bind("localhost")
    for name, (path, _what) in SHOTS.items():
        endpoint, _args = adapter.match(path.format(profile_id=1), method="GET")
        assert not endpoint.endswith(".not_found"), (name, path)


def test_the_readme_shows_every_screenshot():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    for name in SHOTS:
        assert f"docs/screenshots/{name}.png" in readme, name
        assert (root / "docs" / "screenshots" / f"{name}.png").is_file(), name
