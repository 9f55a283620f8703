"""Channel configuration: off without credentials, refused when half set (naming the missing variable)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Route

from bot.channel_settings import ChannelConfigError, ChannelSettings
from bot.channels.registry import build_channels, channel_routes
from tests.channels.channelkit import AES_KEY

TELEGRAM = {"QINGSHEN_TELEGRAM_TOKEN": "123:abc", "QINGSHEN_TELEGRAM_SECRET": "s3cret_token"}
WECOM = {"QINGSHEN_WECOM_CORP_ID": "ww1", "QINGSHEN_WECOM_AGENT_ID": "1000002", "QINGSHEN_WECOM_SECRET": "sec",
         "QINGSHEN_WECOM_TOKEN": "tok", "QINGSHEN_WECOM_AES_KEY": AES_KEY}
WECHAT = {"QINGSHEN_WECHAT_APP_ID": "wx1", "QINGSHEN_WECHAT_APP_SECRET": "sec", "QINGSHEN_WECHAT_TOKEN": "tok"}


def test_no_credentials_means_every_channel_is_off() -> None:
    assert ChannelSettings.from_env({"QINGSHEN_TELEGRAM_MODE": "polling", "QINGSHEN_WECOM_API_BASE": " "}) == \
        ChannelSettings()


@pytest.mark.parametrize(("given", "missing"), [
    *[({k: v for k, v in TELEGRAM.items() if k != key}, key) for key in TELEGRAM],
    *[({k: v for k, v in WECOM.items() if k != key}, key) for key in WECOM],
    *[({k: v for k, v in WECHAT.items() if k != key}, key) for key in WECHAT],
    ({"QINGSHEN_WECHAT_AES_KEY": AES_KEY}, "QINGSHEN_WECHAT_APP_ID"),
    ({"QINGSHEN_WECHAT_TEMPLATE_ID": "t1"}, "QINGSHEN_WECHAT_APP_ID"),
    ({"QINGSHEN_TELEGRAM_MODE": "polling", "QINGSHEN_TELEGRAM_SECRET": "x"}, "QINGSHEN_TELEGRAM_TOKEN"),
])
def test_half_a_configuration_is_refused_naming_the_missing_variable(given: dict[str, str], missing: str) -> None:
    with pytest.raises(ChannelConfigError, match=missing):
        ChannelSettings.from_env(given)


def test_a_blank_value_counts_as_missing() -> None:
    with pytest.raises(ChannelConfigError, match="QINGSHEN_WECOM_SECRET"):
        ChannelSettings.from_env({**WECOM, "QINGSHEN_WECOM_SECRET": "  "})


@pytest.mark.parametrize(("override", "named"), [
    ({"QINGSHEN_WECOM_AGENT_ID": "app"}, "QINGSHEN_WECOM_AGENT_ID"),
    ({"QINGSHEN_WECOM_AES_KEY": "short"}, "QINGSHEN_WECOM_AES_KEY"),
    ({"QINGSHEN_WECOM_API_BASE": "ftp://x"}, "QINGSHEN_WECOM_API_BASE"),
    ({"QINGSHEN_TELEGRAM_MODE": "push"}, "QINGSHEN_TELEGRAM_MODE"),
    ({"QINGSHEN_TELEGRAM_SECRET": "has spaces"}, "QINGSHEN_TELEGRAM_SECRET"),
    ({"QINGSHEN_TELEGRAM_BASE_URL": "api.telegram.org"}, "QINGSHEN_TELEGRAM_BASE_URL"),
    ({"QINGSHEN_WECHAT_AES_KEY": "x" * 42}, "QINGSHEN_WECHAT_AES_KEY"),
])
def test_a_malformed_value_is_refused_naming_the_variable(override: dict[str, str], named: str) -> None:
    with pytest.raises(ChannelConfigError, match=named):
        ChannelSettings.from_env({**TELEGRAM, **WECOM, **WECHAT, **override})


def test_polling_needs_no_webhook_secret() -> None:
    settings = ChannelSettings.from_env({"QINGSHEN_TELEGRAM_TOKEN": "123:abc", "QINGSHEN_TELEGRAM_MODE": "Polling"})
    assert settings.telegram is not None and settings.telegram.mode == "polling"
    assert settings.telegram.secret is None


def test_full_credentials_build_every_adapter_with_its_webhook(sessions: sessionmaker[Session]) -> None:
    settings = ChannelSettings.from_env({**TELEGRAM, **WECOM, **WECHAT, "QINGSHEN_WECHAT_API_BASE": "http://x/cgi"})
    assert settings.wecom is not None and settings.wecom.agent_id == 1000002
    assert settings.wechat is not None and settings.wechat.api_base == "http://x/cgi/"
    channels = build_channels(settings, sessions)
    try:
        assert [c.name for c in channels] == ["telegram", "wecom", "wechat"]
        routes = channel_routes(channels, lambda inbound: [])
        paths = sorted({(r.path, m) for r in routes if isinstance(r, Route) for m in r.methods or ()})
        assert paths == [("/webhooks/telegram", "POST"), ("/webhooks/wechat", "GET"), ("/webhooks/wechat", "HEAD"),
                         ("/webhooks/wechat", "POST"), ("/webhooks/wecom", "GET"), ("/webhooks/wecom", "HEAD"),
                         ("/webhooks/wecom", "POST")]
    finally:
        for channel in channels:
            channel.close()


def test_without_credentials_no_adapter_is_built(sessions: sessionmaker[Session]) -> None:
    assert build_channels(ChannelSettings.from_env({}), sessions) == []


def test_a_malformed_secret_is_not_echoed_in_the_message() -> None:
    for override in ({"QINGSHEN_TELEGRAM_SECRET": "sëcret value"}, {"QINGSHEN_WECOM_AES_KEY": "top-secret-key"}):
        with pytest.raises(ChannelConfigError) as caught:
            ChannelSettings.from_env({**TELEGRAM, **WECOM, **override})
        assert next(iter(override.values())) not in str(caught.value)
