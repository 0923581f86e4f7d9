"""The operators' API at ``/admin/v1`` (admin role only): servers across projects, backends, nodes, flavors,
quotas, users, projects, usage. JSON, MessagePack (``Accept: application/msgpack``) and DRF's browsable HTML.

Layout (NetBox-style): ``serializers`` shape the rows, ``filtersets`` parse the query
filters, ``views`` are thin viewsets on :class:`api.admin.base.AdminViewSet`; the
rules live in ``logic.admin`` and ``logic.usage``.
"""
