"""The web UI against the whole stack on the real Ganeti sandbox.

gunicorn, eventd on the sandbox's job queue, the dispatcher, PostgreSQL and RabbitMQ, as
:mod:`tests.tempest.stack` starts them; the server the wizard creates is a real Ganeti
instance (fake hypervisor), and the list learns its states from real Ganeti jobs.
"""

from __future__ import annotations

import pytest

from tests.ui import browser as b

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow]

GANETI_TIMEOUT = 240  # seconds for a Ganeti job on a shared machine


@pytest.fixture(scope="module")
def stack():
    from tests import services
    from tests.tempest import stack as stacks

    if found := stacks.problems():
        services.missing("the stack", "; ".join(found))
    with stacks.running_stack(workers=2) as running:
        yield running


def test_wizard_server_lifecycle_on_ganeti_and_project_isolation(chromium, stack):
    password = stack.facts["password"]
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(30_000)
    try:
        b.login(page, stack.url, "demo1", password)
        b.mark_page(page)
        server_id = b.create_server(page, "ui-ganeti-1", network="private")
        b.wait_detail_status(page, "ACTIVE", GANETI_TIMEOUT)
        b.shot(page, "sandbox-server-active", "#detail-status", "#h-addr")

        page.get_by_role("link", name="All servers").click()
        b.wait_row_status(page, "ui-ganeti-1", "ACTIVE")
        b.shot(page, "sandbox-servers-list", "#server-list table")

        # another project's user does not see it, in the UI or through the API
        other = chromium.new_context()
        alt = other.new_page()
        b.login(alt, stack.url, "alt1", password)
        alt.wait_for_timeout(500)
        assert alt.locator(f"tr[data-id='{server_id}']").count() == 0
        assert b.row(alt, "ui-ganeti-1").count() == 0
        b.shot(alt, "sandbox-other-project", "#server-count")
        other.close()

        page.locator(f"a[href='#/servers/{server_id}']").click()
        b.action(page, "stop")
        b.wait_detail_status(page, "SHUTOFF", GANETI_TIMEOUT)
        b.action(page, "start")
        b.wait_detail_status(page, "ACTIVE", GANETI_TIMEOUT)

        page.locator(".detail-actions [data-action='resize']").click()
        page.locator(".dialog button[type=submit]").click()
        alert = page.locator("#alerts .alert-text", has_text="Resize")
        alert.wait_for()
        assert "When resizing, instances must change flavor." in alert.inner_text()
        b.shot(page, "sandbox-invalid-action", "#alerts .alert")

        b.action(page, "delete")
        page.locator("#server-gone").wait_for(timeout=GANETI_TIMEOUT * 1000)
        page.get_by_role("link", name="All servers").click()
        page.locator("#server-count").wait_for()
        assert b.row(page, "ui-ganeti-1").count() == 0
        b.assert_not_reloaded(page)
    finally:
        context.close()
    assert not errors, errors
