"""``cyclades-manage backend-add --host H --user U --password-file F --certificate-file PEM``
or ``backend-add --kind libvirt --uri qemu:///system``."""

from django.core.management.base import BaseCommand, CommandError

from logic import backends
from logic.management.commands._backend_cli import (
    add_password_options,
    backend_errors,
    describe,
    print_one,
    read_certificate,
    read_password,
)


class Command(BaseCommand):
    help = (
        "Add a Ganeti cluster as a backend. The RAPI is contacted first: credentials, the right to submit "
        "jobs, hypervisor, disk templates and capacity are checked and read; nothing is saved if that fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind", choices=["ganeti", "libvirt"], default="ganeti", help="Ganeti cluster (default) or libvirt host."
        )
        parser.add_argument("--uri", help="libvirt connection URI (--kind libvirt), e.g. qemu:///system or test:///default.")
        parser.add_argument("--host", help="RAPI host (the cluster's master name or IP).")
        parser.add_argument("--port", type=int, default=5080)
        parser.add_argument("--user", help="RAPI user (with the 'write' option in rapi_users).")
        add_password_options(parser, required=False)
        parser.add_argument(
            "--certificate-file",
            help="The cluster's RAPI certificate to pin (e.g. a copy of /var/lib/ganeti/rapi.pem; a private key in it is ignored).",
        )
        parser.add_argument("--name", help="Backend name (default: the cluster's name).")
        parser.add_argument("--drained", action="store_true", help="Add it drained (no new servers until undrained).")
        parser.add_argument("--timeout", type=float, help="Seconds to wait for the RAPI (default: RAPI_TIMEOUT).")
        parser.add_argument("--json", action="store_true", help="Print the backend as JSON.")

    @backend_errors
    def handle(self, *args, **options):
        if options["kind"] == "libvirt":
            from logic.drivers.libvirt.backends import add_libvirt_backend

            if not options["uri"]:
                raise CommandError("--kind libvirt needs --uri (e.g. qemu:///system)")
            backend = add_libvirt_backend(uri=options["uri"], name=options["name"], drained=options["drained"])
            print_one(self, describe(backend), options["json"])
            return
        if not options["host"] or not options["user"]:
            raise CommandError("a Ganeti backend needs --host and --user (or give --kind libvirt --uri URI)")
        backend = backends.add_backend(
            host=options["host"],
            port=options["port"],
            username=options["user"],
            password=read_password(options, required=True),
            certificate_pem=read_certificate(options["certificate_file"]),
            name=options["name"],
            drained=options["drained"],
            timeout=options["timeout"],
        )
        if not backend.rapi_certificate:
            self.stderr.write("warning: no certificate pinned: the RAPI's certificate is checked against public CAs")
        print_one(self, describe(backend), options["json"])
