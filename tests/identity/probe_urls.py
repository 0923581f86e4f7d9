"""The product's URLs plus a probe view that reads or writes through api.auth, as compute views do."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ProjectReader, TokenAuthentication, require_admin, require_write
from cyclades.urls import urlpatterns as product_urls


class Probe(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [ProjectReader]

    def get(self, request):
        return Response({"project": request.auth.project.id if request.auth.project else None})

    def post(self, request):
        require_write(request.auth)
        return Response({"written": True}, status=201)

    def delete(self, request):
        require_admin(request.auth)
        return Response(status=204)


urlpatterns = [path("probe", Probe.as_view()), *product_urls]
