"""Request bodies as the clients send them, and envelope checks."""

from __future__ import annotations

import requests


def password_body(name: str, password: str, project: str | None = "demo", *, by_id: str | None = None) -> dict:
    """A v3 password login as keystoneauth sends it (user and project by name in Default)."""
    user = {"id": by_id} if by_id else {"name": name, "domain": {"name": "Default"}}
    body: dict = {"auth": {"identity": {"methods": ["password"], "password": {"user": {**user, "password": password}}}}}
    if project is not None:
        body["auth"]["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    return body


def token_body(token: str, project_id: str | None = None) -> dict:
    body: dict = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}}}}
    if project_id is not None:
        body["auth"]["scope"] = {"project": {"id": project_id}}
    return body


def login(base: str, body, **kwargs) -> requests.Response:
    return requests.post(base + "/identity/v3/auth/tokens", json=body, timeout=30, **kwargs)


def assert_keystone_error(response: requests.Response, code: int) -> str:
    """``response`` is a Keystone envelope with ``code``; returns its message."""
    assert response.status_code == code, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code
    assert error["title"] == {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}[code]
    assert isinstance(error["message"], str) and error["message"]
    return error["message"]
