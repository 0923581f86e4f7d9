from django.urls import path

from ui import views

urlpatterns = [
    path("", views.index, name="ui-index"),
    path("ui", views.index, name="ui-app"),
    path("ui/static/<path:name>", views.static, name="ui-static"),
]
