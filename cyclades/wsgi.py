"""WSGI entry point (gunicorn: ``cyclades.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cyclades.settings")
application = get_wsgi_application()
