import os
import shutil
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the product with gunicorn on 127.0.0.1 (production-style: 2 sync workers)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("AFTERSALES_BIND_HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("AFTERSALES_WORKERS", 2)))
        parser.add_argument("--access-log", action="store_true", default=settings.AFTERSALES_ACCESS_LOG,
                            help="log every request on stdout (off by default: the reverse proxy in front logs them)")

    def handle(self, *args, port, host, workers, access_log, **options):
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
        if not gunicorn:
            raise CommandError("gunicorn is not installed; run `make install` first.")
        self.stdout.write(f"\nAftersales is running at http://{host}:{port}/  (Ctrl+C stops it)\n")
        self.stdout.flush()
        # gunicorn's access log costs about a quarter of a millisecond per request on a small machine (a third of
        # a bare view's whole cost); requests are logged by the proxy in front, or here when asked.
        os.execv(gunicorn, [
            gunicorn, "aftersales.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--no-control-socket", "--graceful-timeout", "10", *(["--access-logfile", "-"] if access_log else []),
        ])
