from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from aftersales.backups import archive as backups


class Command(BaseCommand):
    help = ("Restore an archive written by `aftersales backup` into an empty database and upload directory, "
            "verifying every checksum before and after.")
    requires_system_checks = ()

    def add_arguments(self, parser):
        parser.add_argument("archive", help="An aftersales-YYYYmmdd-HHMMSS.tar.gz archive.")
        parser.add_argument("--force", action="store_true",
                            help="Restore even though the database or upload directory is not empty (the old "
                                 "SQLite file and uploads are kept beside them). Stop the site and worker first.")

    def handle(self, *args, archive: str, force: bool, **options):
        try:
            manifest = backups.restore_archive(archive, force=force, log=self.stdout.write)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(_(
            "Restored the backup of %(created)s (version %(version)s, %(database)s): %(count)s files, every "
            "checksum verified.") % {"created": manifest["created"], "version": manifest["version"],
                                     "database": manifest["database"], "count": len(manifest["files"])}))

