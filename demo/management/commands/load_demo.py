from django.core.management.base import BaseCommand, CommandError

from demo.data import DemoRefused, load_demo


class Command(BaseCommand):
    help = "Load demo cooperatives, households, catalog and logins from Shitun and Nanming."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even into a database that already holds other data.",
        )

    def handle(self, *args, force, **options):
        try:
            loaded = load_demo(force=force)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if loaded:
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
