"""Failed-login throttling (per user, per address, shared through the database) and constant-time checks."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.test import override_settings

from logic import login as login_logic
from logic import throttle
from logic.models import LoginThrottle, Token
from tests.identity.helpers import assert_keystone_error, login, password_body

pytestmark = pytest.mark.postgres


@pytest.fixture
def limits(monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "LOGIN_MAX_FAILURES_PER_USER", 3)
    monkeypatch.setitem(settings.CYCLADES, "LOGIN_MAX_FAILURES_PER_ADDRESS", 5)
    monkeypatch.setitem(settings.CYCLADES, "LOGIN_FAILURE_WINDOW", 60)


def test_user_is_locked_out_after_too_many_failures(live_identity, limits):
    member = live_identity.member
    for _ in range(3):
        assert_keystone_error(login(live_identity.url, password_body("demo", "wrong")), 401)
    # Even the right password is refused now, with a hint when to retry.
    r = login(live_identity.url, password_body("demo", member.password))
    assert "Too many failed login attempts" in assert_keystone_error(r, 401)
    assert 0 < int(r.headers["Retry-After"]) <= 60
    tokens = Token.objects.count()
    # The counter is a database row (shared by every API process), keyed by the user's id.
    row = LoginThrottle.objects.get(key=throttle.user_key(member.user.id))
    assert row.failures == 3
    # Another user from the same address is not locked out (the address limit is higher).
    assert login(live_identity.url, password_body("demo-reader", live_identity.reader.password)).status_code == 201
    # When the window has passed, the right password works again and clears the counter.
    LoginThrottle.objects.filter(pk=row.pk).update(window_start=row.window_start - timedelta(seconds=61))
    assert login(live_identity.url, password_body("demo", member.password)).status_code == 201
    assert not LoginThrottle.objects.filter(pk=row.pk).exists()
    assert Token.objects.count() == tokens + 2


def test_unknown_users_are_throttled_like_known_ones(live_identity, limits):
    for _ in range(3):
        assert_keystone_error(login(live_identity.url, password_body("ghost", "x")), 401)
    r = login(live_identity.url, password_body("ghost", "x"))
    assert "Too many" in assert_keystone_error(r, 401)


def test_address_is_locked_out_across_user_names(live_identity, limits):
    for i in range(5):
        assert_keystone_error(login(live_identity.url, password_body(f"guess{i}", "x")), 401)
    r = login(live_identity.url, password_body("demo", live_identity.member.password))
    assert "Too many" in assert_keystone_error(r, 401)
    # The v2.0 password path shares the counters.
    body = {"auth": {"passwordCredentials": {"username": "demo", "password": live_identity.member.password}}}
    r = requests.post(live_identity.url + "/identity/v2.0/tokens", json=body, timeout=10)
    assert "Too many" in assert_keystone_error(r, 401)
    # Token logins are not password guesses: they still work.
    assert (
        requests.post(
            live_identity.url + "/identity/v2.0/tokens", json={"auth": {"token": {"id": live_identity.member.token}}}, timeout=10
        ).status_code
        == 200
    )


def test_forwarded_address_is_used_only_behind_trusted_proxies(monkeypatch):
    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7"}
    monkeypatch.setitem(settings.CYCLADES, "TRUSTED_PROXY_COUNT", 0)
    assert throttle.client_address(meta) == "10.0.0.1"
    monkeypatch.setitem(settings.CYCLADES, "TRUSTED_PROXY_COUNT", 1)
    assert throttle.client_address(meta) == "198.51.100.7"
    monkeypatch.setitem(settings.CYCLADES, "TRUSTED_PROXY_COUNT", 2)
    assert throttle.client_address(meta) == "203.0.113.9"
    monkeypatch.setitem(settings.CYCLADES, "TRUSTED_PROXY_COUNT", 3)
    assert throttle.client_address(meta) == "10.0.0.1"


def _failure_time(ref: login_logic.UserRef) -> float:
    LoginThrottle.objects.all().delete()
    start = time.perf_counter()
    with pytest.raises(login_logic.LoginFailed):
        login_logic.password_login(ref, "wrong password", "192.0.2.1")
    return time.perf_counter() - start


PBKDF2 = "django.contrib.auth.hashers.PBKDF2PasswordHasher"


@pytest.mark.django_db
def test_unknown_user_costs_the_same_hash(monkeypatch):
    """An unknown user's login runs the preferred hasher once, with the same work factor as a real user's."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from tests.fixtures_identity import build_accounts

    calls: list[int] = []
    real_encode = PBKDF2PasswordHasher.encode

    def counting_encode(self, password, salt, iterations=None):
        calls.append(iterations or self.iterations)
        return real_encode(self, password, salt, iterations)

    with override_settings(PASSWORD_HASHERS=[PBKDF2]):
        accounts = build_accounts()
        login_logic._check_dummy("warm up")  # the dummy hash is made once per hasher list
        monkeypatch.setattr(PBKDF2PasswordHasher, "encode", counting_encode)
        for ref in (login_logic.UserRef(name=accounts.member.name), login_logic.UserRef(name="no-such-user")):
            with pytest.raises(login_logic.LoginFailed):
                login_logic.password_login(ref, "wrong password", None)
    assert calls == [PBKDF2PasswordHasher.iterations] * 2


@pytest.mark.slow
@pytest.mark.django_db
def test_failure_takes_as_long_for_unknown_users():
    """Measured: with the production hasher a wrong password costs about the same for unknown users.

    Attempts are interleaved and the fastest of each kind compared, so that load
    from other processes on the machine does not decide the result.
    """
    from tests.fixtures_identity import build_accounts

    with override_settings(PASSWORD_HASHERS=[PBKDF2]):
        accounts = build_accounts()
        known = login_logic.UserRef(name=accounts.member.name)
        unknown = login_logic.UserRef(name="no-such-user")
        _failure_time(unknown)
        t_known, t_unknown = [], []
        for _ in range(5):
            t_known.append(_failure_time(known))
            t_unknown.append(_failure_time(unknown))
    fastest_known, fastest_unknown = min(t_known), min(t_unknown)
    assert fastest_known > 0.01  # a real hash was computed
    assert 0.6 < fastest_unknown / fastest_known < 1.6, (t_known, t_unknown)


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted(monkeypatch):
    """Failures recorded at once over separate database connections (as by several API processes) are not lost."""
    import threading

    from django.db import connection

    monkeypatch.setitem(settings.CYCLADES, "LOGIN_FAILURE_WINDOW", 60)
    limits = throttle.limits_for("someone", "192.0.2.7")
    workers, per_worker = 6, 5
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def hammer():
        try:
            barrier.wait()
            for _ in range(per_worker):
                throttle.record_failure(limits)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=hammer) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts = dict(LoginThrottle.objects.values_list("key", "failures"))
    assert counts == {throttle.user_key("someone"): workers * per_worker, throttle.address_key("192.0.2.7"): workers * per_worker}
