from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from aftersales.backups import archive


class Command(BaseCommand):
    help = ("Write a consistent backup (database, uploads, secret key, checksums) as one dated archive, copy it "
            "to the off-site target and keep the newest AFTERSALES_BACKUP_KEEP archives.")
    requires_system_checks = ()

    def add_arguments(self, parser):
        parser.add_argument("--to", metavar="DIR", help="Write the archive into DIR instead of AFTERSALES_BACKUP_DIR.")

    def handle(self, *args, to=None, **options):
        if to:
            settings.AFTERSALES_BACKUP_DIR = Path(to).resolve()
        try:
            result = archive.run_backup()
        except archive.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Backup written: %(path)s (%(size)s bytes, %(count)s files, sha256 %(sha256)s)") % {
            "path": result.archive, "size": result.size, "count": len(result.manifest["files"]),
            "sha256": result.sha256})
        if result.manifest["secret_key"] == "included":
            self.stdout.write(_("The archive holds the secret key and all data: keep it as secret as the server."))
        elif result.manifest["secret_key"] == "environment":
            self.stdout.write(_("The secret key comes from AFTERSALES_SECRET_KEY and is not in the archive: back "
                                "it up separately."))
        for path in result.removed:
            self.stdout.write(_("Removed old archive: %(path)s") % {"path": path})
        if result.offsite_error:
            raise CommandError(_("The off-site copy failed (the local archive is kept): %(error)s")
                               % {"error": result.offsite_error})
        if result.offsite:
            self.stdout.write(_("Copied off-site: %(path)s") % {"path": result.offsite})
        else:
            self.stdout.write(self.style.WARNING(_(
                "No off-site copy: AFTERSALES_BACKUP_TARGET is not set. The backup is on this machine only.")))
