"""Settings layering and override_settings (dynamic signals, but no service is switched on here)."""

import pytest

from shop.settings import override_settings, settings
from shop.tax import tax_for


def test_defaults():
    assert settings.CURRENCY == "EUR"


def test_override_context_manager():
    with override_settings(TAX_RATE="0.10"):
        assert tax_for(1000) == 100
    assert tax_for(1000) == 200


@override_settings(CURRENCY="USD")
def test_override_decorator():
    assert settings.CURRENCY == "USD"


def test_nested_overrides():
    with override_settings(RATE_LIMIT=1):
        with override_settings(RATE_LIMIT=2):
            assert settings.RATE_LIMIT == 2
        assert settings.RATE_LIMIT == 1


def test_unknown_override():
    with pytest.raises(KeyError), override_settings(NO_SUCH_SETTING=1):
        pass


def test_settings_fixture(settings):
    settings.TAX_RATE = "0.05"
    assert tax_for(1000) == 50


def test_environment_variable(monkeypatch):
    monkeypatch.setenv("SHOP_SESSION_TTL", "60")
    assert settings.SESSION_TTL == 60


def test_settings_read_only():
    with pytest.raises(AttributeError):
        settings.CURRENCY = "GBP"
