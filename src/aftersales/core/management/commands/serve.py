import os
import shutil
import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the product with gunicorn on 127.0.0.1 (production-style: 2 sync workers)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("AFTERSALES_BIND_HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("AFTERSALES_WORKERS", 2)))

    def handle(self, *args, port, host, workers, **options):
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
        if not gunicorn:
            raise CommandError("gunicorn is not installed; run `make install` first.")
        self.stdout.write(f"\nAftersales is running at http://{host}:{port}/  (Ctrl+C stops it)\n")
        self.stdout.flush()
        os.execv(gunicorn, [
            gunicorn, "aftersales.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--no-control-socket", "--access-logfile", "-", "--graceful-timeout", "10",
        ])
