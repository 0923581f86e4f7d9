"""The request id goes into Ganeti's reason trail, except for intermediate jobs of an action."""

from __future__ import annotations

from cyclades.logs import request_context
from logic import rapi


def test_request_id_is_appended_to_the_reason():
    client = rapi.RapiClient("127.0.0.1", 5080)
    with request_context("req-00000000-0000-4000-8000-000000000001") as rid:
        assert client._reason_query("start server") == [("reason", f"start server {rid}")]
        assert client._reason_query(None) == [("reason", rid)]
    assert client._reason_query(None) == []


def test_intermediate_jobs_leave_the_bare_request_id_out_but_the_log_context_keeps_it():
    client = rapi.RapiClient("127.0.0.1", 5080)
    with request_context("req-00000000-0000-4000-8000-000000000002") as rid:
        token = rapi.reason_carries_request_id.set(False)
        try:
            assert client._reason_query(f"step-1-for:{rid}") == [("reason", f"step-1-for:{rid}")]
            from cyclades.logs import current_request_id

            assert current_request_id() == rid
        finally:
            rapi.reason_carries_request_id.reset(token)
        assert client._reason_query(None) == [("reason", rid)]
