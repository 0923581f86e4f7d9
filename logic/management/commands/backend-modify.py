"""``cyclades-manage backend-modify NAME [--host H] [--port P] [--user U] [--password-file F] [--certificate-file PEM]
[--hypervisor HV] ...``."""

from django.core.management.base import BaseCommand, CommandError

from logic import backends
from logic.backend_hypervisor import set_hypervisor
from logic.crypto import reencrypt_secret
from logic.management.commands._backend_cli import (
    add_password_options,
    backend_errors,
    describe,
    get_backend,
    print_one,
    read_certificate,
    read_password,
)
from logic.models import Project


class Command(BaseCommand):
    help = (
        "Change how a backend is reached (checked against the RAPI before saving, unless --no-check), "
        "pin projects to it, or re-encrypt its password with the current key."
    )

    def add_arguments(self, parser):
        parser.add_argument("backend", help="Backend name or id.")
        parser.add_argument("--host")
        parser.add_argument("--port", type=int)
        parser.add_argument("--user")
        add_password_options(parser, required=False)
        parser.add_argument("--certificate-file", help="New certificate to pin.")
        parser.add_argument(
            "--hypervisor",
            help="Hypervisor of the servers created from now on (one the cluster has enabled, e.g. kvm); "
            "existing servers keep theirs.",
        )
        parser.add_argument("--no-check", action="store_true", help="Save without contacting the RAPI.")
        parser.add_argument(
            "--pin-project", action="append", default=[], metavar="PROJECT", help="Dedicate to a project (repeatable)."
        )
        parser.add_argument("--unpin-project", action="append", default=[], metavar="PROJECT")
        parser.add_argument("--reencrypt", action="store_true", help="Re-encrypt the stored password with the current key.")
        parser.add_argument("--json", action="store_true")

    @backend_errors
    def handle(self, *args, **options):
        backend = get_backend(options["backend"])
        password = read_password(options, required=False)
        certificate = read_certificate(options["certificate_file"])
        if any(v is not None for v in (options["host"], options["port"], options["user"], password, certificate)):
            backends.modify_backend(
                backend,
                host=options["host"],
                port=options["port"],
                username=options["user"],
                password=password,
                certificate_pem=certificate,
                check=not options["no_check"],
            )
        if options["hypervisor"]:
            backend = set_hypervisor(backend, options["hypervisor"])
        for ref in options["pin_project"]:
            backend.pinned_projects.add(self._project(ref))
        for ref in options["unpin_project"]:
            backend.pinned_projects.remove(self._project(ref))
        if options["reencrypt"]:
            backend.rapi_password_encrypted = reencrypt_secret(backend.rapi_password_encrypted)
            backend.save(update_fields=["rapi_password_encrypted"])
        print_one(self, describe(backend), options["json"])

    @staticmethod
    def _project(ref: str) -> Project:
        project = Project.objects.filter(id=ref).first() or Project.objects.filter(name=ref).first()
        if project is None:
            raise CommandError(f"no project {ref!r}")
        return project
