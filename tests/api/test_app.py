"""Binding rules: loopback by default, anything else only with a token."""

from __future__ import annotations

import pytest

from api.app import check_bind, is_loopback
from connectors.settings import Settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("api.example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_loopback_needs_no_token(host: str) -> None:
    check_bind(Settings(api_host=host, api_token=None))


@pytest.mark.parametrize("token", [None, ""])
def test_public_bind_without_token_is_refused(token: str | None) -> None:
    with pytest.raises(ValueError, match="requires FLOWTAPE_API_TOKEN"):
        check_bind(Settings(api_host="0.0.0.0", api_token=token))


def test_public_bind_with_token_is_allowed() -> None:
    check_bind(Settings(api_host="0.0.0.0", api_token="long-random-token"))
