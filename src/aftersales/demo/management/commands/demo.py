from django.core.management import call_command
from django.core.management.base import BaseCommand

from aftersales.demo import data as demo


class Command(BaseCommand):
    help = "Migrate, load the demo data (once) and serve the product at http://127.0.0.1:PORT."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="Only prepare the database.")

    def handle(self, *args, port, no_serve, **options):
        self.stdout.write("Migrating the database …")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        result = demo.load()
        self.stdout.write("Demo data loaded." if result["created"] else "Demo data already present.")
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD}):")
        for username, full_name, role, *_ in demo.STAFF:
            self.stdout.write(f"  {username:<12} {role:<20} {full_name}")
        for _name, short, _branch, _address, contact, contact_name, _projects in demo.CUSTOMERS:
            self.stdout.write(f"  {contact:<12} {'customer_user':<20} {contact_name} · {short}")
        if not no_serve:
            self.serve_with_worker(port)

    def serve_with_worker(self, port: int) -> None:
        """The web server and the background worker side by side, so escalations visibly happen."""
        import signal
        import subprocess
        import sys

        import os

        # Without a mail server the demo writes outgoing mail to files in the data directory.
        os.environ.setdefault("AFTERSALES_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
        command = [sys.executable, "-m", "aftersales"]
        worker = subprocess.Popen([*command, "worker"])
        web = subprocess.Popen([*command, "serve", "--port", str(port), "--access-log"])

        def stop(*_args):
            for process in (web, worker):
                process.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            worker.wait(timeout=15)
