"""Domain events (issue #18, N-1, N-2): recorded with the change, subscribers in its
transaction, no secrets stored; email switches derived from the email types' declaration."""
import inspect

from widget_server.notifications.types import EMAIL_TYPES, SWITCHABLE
from widget_server.tenancy import configuration
from widget_server.tenancy.configuration import NOTIFICATIONS


def test_one_notification_switch_per_switchable_email_type_declared_once():
    switchable = [t.key for t in EMAIL_TYPES.values() if t.switch is not None]
    assert [s.key for s in NOTIFICATIONS.settings] == switchable == [t.key for t in SWITCHABLE]
    for setting in NOTIFICATIONS.settings:
        email_type = EMAIL_TYPES[setting.key]
        assert (setting.default, setting.label, setting.help) == (
            email_type.switch.default, email_type.label, email_type.switch.help)
    assert "test" not in switchable  # the admin's test email cannot be switched off
    source = inspect.getsource(configuration)
    assert not any(f'"{key}"' in source for key in switchable)  # not listed a second time
