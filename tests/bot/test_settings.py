"""Settings.from_env: defaults, parsing, and errors that name the variable."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_MAX_BODY_BYTES, ConfigError, Settings

KEY = "k" * 16


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.database_url.startswith("sqlite:///")
    assert (s.host, s.port, s.demo, s.api_keys) == ("127.0.0.1", 8080, False, ())
    assert s.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 65536
    assert s.public_url is None and s.webhook_url is None


def test_every_variable_is_read() -> None:
    s = Settings.from_env({
        "QINGSHEN_DATABASE_URL": "postgresql+psycopg://u:p@db/qs",
        "QINGSHEN_HOST": "0.0.0.0",
        "QINGSHEN_PORT": "9000",
        "QINGSHEN_DEMO": "yes",
        "QINGSHEN_API_KEYS": f" {KEY} , ,{'x' * 20},",
        "QINGSHEN_MAX_BODY_BYTES": "2048",
        "QINGSHEN_PUBLIC_URL": "https://qingshen.example.cn/",
        "QINGSHEN_WEBHOOK_URL": "https://hooks.example.cn/qs",
    })
    assert s.database_url == "postgresql+psycopg://u:p@db/qs"
    assert (s.host, s.port, s.demo) == ("0.0.0.0", 9000, True)
    assert s.api_keys == (KEY, "x" * 20)
    assert s.max_body_bytes == 2048
    assert s.public_url == "https://qingshen.example.cn"
    assert s.webhook_url == "https://hooks.example.cn/qs"


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("TRUE", True), ("on", True), ("0", False),
                                                  ("no", False), ("", False)])
def test_demo_flags(value: str, expected: bool) -> None:
    assert Settings.from_env({"QINGSHEN_DEMO": value}).demo is expected


@pytest.mark.parametrize(("name", "value"), [
    ("QINGSHEN_PORT", "http"),
    ("QINGSHEN_PORT", "70000"),
    ("QINGSHEN_PORT", "0"),
    ("QINGSHEN_DEMO", "maybe"),
    ("QINGSHEN_API_KEYS", "short"),
    ("QINGSHEN_API_KEYS", f"{KEY},with space inside it"),
    ("QINGSHEN_MAX_BODY_BYTES", "10"),
    ("QINGSHEN_MAX_BODY_BYTES", "1e6"),
    ("QINGSHEN_PUBLIC_URL", "qingshen.example.cn"),
    ("QINGSHEN_WEBHOOK_URL", "ftp://x/y"),
])
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as e:
        Settings.from_env({name: value})
    assert name in str(e.value)


def test_settings_are_frozen() -> None:
    s = Settings.from_env({})
    with pytest.raises(ValueError):
        s.port = 1


def test_a_short_session_secret_is_refused_by_name_and_not_echoed() -> None:
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError) as info:
        Settings.from_env({"QINGSHEN_SESSION_SECRET": "short-secret"})
    assert "QINGSHEN_SESSION_SECRET" in str(info.value) and "short-secret" not in str(info.value)
    assert Settings.from_env({"QINGSHEN_SESSION_SECRET": "s" * 40}).session_secret == "s" * 40
    assert Settings.from_env({}).session_secret is None
