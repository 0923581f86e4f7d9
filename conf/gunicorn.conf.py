"""gunicorn configuration for the API (production).

    gunicorn -c /etc/cyclades/gunicorn.conf.py cyclades.wsgi:application

Every value can be overridden with GUNICORN_* environment variables read below.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8080").split(",")  # several addresses: comma-separated
# Sync workers: each request is short (no polling of Ganeti); scale with cores.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
# Longer than any client polls (OSC 5 s, SDK 2 s, kamaki 1 s): a server closing an idle
# keep-alive connection just as the client reuses it makes the client see a reset.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 75))
# Recycle workers now and then: bounds memory growth from any leak.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
# The proxy in front sets X-Forwarded-*; PUBLIC_URL decides the advertised URLs anyway.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%({x-openstack-request-id}o)s"'
raw_env = ["DJANGO_SETTINGS_MODULE=cyclades.settings"]
