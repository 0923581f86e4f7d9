"""Cloud administrators reach every project's servers by id; lists cover every project only with all_tenants."""

from __future__ import annotations

from logic.models import Server

V21 = "/compute/v2.1"


def test_an_admin_shows_acts_on_and_deletes_another_projects_server(admin, member, server, jobs):
    assert admin.get(f"{V21}/servers/{server.pk}").json()["server"]["tenant_id"] == member.project.pk
    Server.objects.filter(pk=server.pk).update(operstate="STARTED", task=None)
    assert admin.post(f"{V21}/servers/{server.pk}/action", {"os-stop": None}, format="json").status_code == 202
    Server.objects.filter(pk=server.pk).update(task=None)
    assert admin.delete(f"{V21}/servers/{server.pk}").status_code == 204
    assert Server.objects.get(pk=server.pk).task == "DESTROY"


def test_admin_lists_are_their_project_unless_all_tenants(admin, member, server):
    assert admin.get(f"{V21}/servers").json()["servers"] == []
    for params in ({"all_tenants": ""}, {"all_tenants": "1"}, {"all_tenants": "True"}):
        assert [s["id"] for s in admin.get(f"{V21}/servers", params).json()["servers"]] == [str(server.pk)]
    assert admin.get(f"{V21}/servers", {"all_tenants": "0"}).json()["servers"] == []
    mine = admin.get(f"{V21}/servers/detail", {"all_tenants": "", "tenant_id": member.project.pk}).json()["servers"]
    assert [s["id"] for s in mine] == [str(server.pk)]
    # without all_tenants Nova ignores tenant_id: still the admin's own project
    assert admin.get(f"{V21}/servers", {"tenant_id": member.project.pk}).json()["servers"] == []
    assert admin.get(f"{V21}/servers", {"all_tenants": "", "tenant_id": "someone-else"}).json()["servers"] == []


def test_others_may_not_list_all_tenants_or_reach_other_projects(member, other, server):
    assert member.get(f"{V21}/servers", {"all_tenants": "1"}).status_code == 403
    assert other.get(f"{V21}/servers/{server.pk}").status_code == 404
    assert other.delete(f"{V21}/servers/{server.pk}").status_code == 404
    assert [s["id"] for s in member.get(f"{V21}/servers").json()["servers"]] == [str(server.pk)]


def test_admins_filter_by_host_the_ganeti_cluster(admin, member, server, backend):
    listed = admin.get(f"{V21}/servers", {"all_tenants": "1", "host": backend.name}).json()["servers"]
    assert [s["id"] for s in listed] == [str(server.pk)]
    assert admin.get(f"{V21}/servers", {"all_tenants": "1", "host": "nonexistent"}).json()["servers"] == []
    # a member's host filter is ignored, as Nova ignores admin-only filters
    assert [s["id"] for s in member.get(f"{V21}/servers", {"host": "nonexistent"}).json()["servers"]] == [str(server.pk)]
