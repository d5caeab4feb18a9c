"""Settings helpers read typed values and fail loudly, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.env import EnvError, env_bool, env_credentials, env_int, env_list, env_path


def test_booleans_accept_the_usual_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, value in [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False)]:
        monkeypatch.setenv("FLAG", text)
        assert env_bool("FLAG", not value) is value
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", True) is True


def test_a_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(EnvError, match=r"DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", False)


def test_integers_are_checked_against_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "80a")
    with pytest.raises(EnvError, match="PORT='80a' is not a whole number"):
        env_int("PORT", 1)
    monkeypatch.setenv("PORT", "0")
    with pytest.raises(EnvError, match="below the minimum of 1"):
        env_int("PORT", 1, minimum=1)
    monkeypatch.setenv("PORT", "5555")
    assert env_int("PORT", 1, minimum=1, maximum=65535) == 5555


def test_lists_paths_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", " a.example, ,b.example ")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("DIR", "relative/dir")
    with pytest.raises(EnvError, match="must be an absolute path"):
        env_path("DIR", Path("/tmp"))
    monkeypatch.setenv("AUTH", "operator")
    with pytest.raises(EnvError, match="'user:password'"):
        env_credentials("AUTH")
    monkeypatch.setenv("AUTH", "operator:s3cret:with:colons")
    assert env_credentials("AUTH") == ("operator", "s3cret:with:colons")
