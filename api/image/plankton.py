"""``/image/v1.0``: the Synnefo Plankton image API kamaki 0.16's ``image`` commands use (see :mod:`logic.plankton`).

``GET images/`` (list) and ``images/detail`` answer bare JSON lists; ``HEAD images/{id}``
answers the metadata as ``X-Image-Meta-*`` headers; ``PUT`` changes it from such headers;
``POST images/`` registers; ``DELETE`` unregisters; ``images/{id}/members[/{member}]``
and ``shared-images/{owner}`` share images with projects.
"""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.response import Response

from api.image.base import GlanceView
from logic import image_write, plankton
from logic import images as registry


def _with_headers(response, image):
    for key, value in plankton.headers(image).items():
        response[key] = value
    return response


class PlanktonView(GlanceView):
    def meta(self):
        return plankton.parse_headers(self.request.headers)


class ImageList(PlanktonView):
    def get(self, request):
        return Response([plankton.summary(i) for i in plankton.list_images(request.auth, request.query_params)])

    def post(self, request):
        core, props = self.meta()
        image = plankton.register(request.auth, core, props)
        return _with_headers(Response({"image": plankton.detail(image)}), image)


class ImageDetailList(PlanktonView):
    def get(self, request):
        return Response([plankton.detail(i) for i in plankton.list_images(request.auth, request.query_params)])


class ImageItem(PlanktonView):
    def head(self, request, image_id):
        return _with_headers(HttpResponse(status=200), registry.get(request.auth, image_id))

    def get(self, request, image_id):
        image = registry.get(request.auth, image_id)
        return _with_headers(Response({"image": plankton.detail(image)}), image)

    def put(self, request, image_id):
        core, props = self.meta()
        image = plankton.update(request.auth, image_id, core, props)
        return _with_headers(Response({"image": plankton.detail(image)}), image)

    def delete(self, request, image_id):
        image_write.delete(request.auth, image_id)
        return HttpResponse(status=204)


class MemberList(PlanktonView):
    def get(self, request, image_id):
        return Response({"members": [{"member_id": m, "can_share": False} for m in plankton.members(request.auth, image_id)]})

    def put(self, request, image_id):
        plankton.set_members(request.auth, image_id, request.data)
        return HttpResponse(status=204)


class MemberItem(PlanktonView):
    def put(self, request, image_id, member):
        plankton.add_member(request.auth, image_id, member)
        return HttpResponse(status=204)

    def delete(self, request, image_id, member):
        plankton.remove_member(request.auth, image_id, member)
        return HttpResponse(status=204)


class SharedImages(PlanktonView):
    def get(self, request, owner):
        images = plankton.shared_by(request.auth, owner)
        return Response({"shared_images": [{"image_id": str(i.pk), "can_share": False} for i in images]})
