"""Content negotiation that accepts what OpenStack clients send.

openstacksdk sends ``Accept:`` with an empty value on server actions (``POST
/servers/<id>/action``); DRF's default negotiation reads that as "nothing is
acceptable" and answers 406. An empty or missing Accept means "anything" (RFC 9110).
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class BlankAcceptMeansAny(DefaultContentNegotiation):
    def get_accept_list(self, request):
        accepted = [token for token in super().get_accept_list(request) if token]
        return accepted or ["*/*"]
