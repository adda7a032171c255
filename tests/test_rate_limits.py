"""Flask-Limiter is not consulted for GETs of the blueprints whose limits are all on POSTs
(#26): that holds only as long as none of their endpoints gets a limit counting reads, which
is what this checks (test_portal_access.py and others show their POSTs still answer 429)."""
from flask_limiter.util import get_qualified_name

from widget_server.core.extensions import READS_UNLIMITED, limiter


def _limits(app, endpoint: str) -> list:
    name = get_qualified_name(app.view_functions[endpoint])
    return [limit for group in limiter.limit_manager._decorated_limits.get(name, ())
            for limit in group]


def test_no_limit_of_a_read_unlimited_blueprint_counts_reads(app):
    endpoints = [rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.partition(".")[0] in READS_UNLIMITED]
    assert len(endpoints) > 50  # the widget's pages, twice, the loader, themes, health
    limited = {e: _limits(app, e) for e in endpoints if _limits(app, e)}
    assert "portal.login" in limited  # the check sees the decorated limits
    counting_reads = {e: [str(limit.limit) for limit in limits
                          if not limit.methods or {"get", "head"} & set(limit.methods)]
                      for e, limits in limited.items()}
    assert {e: found for e, found in counting_reads.items() if found} == {}
    assert set(limiter.limit_manager._blueprint_limits).isdisjoint(READS_UNLIMITED)

