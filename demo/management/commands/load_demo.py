from django.core.management.base import BaseCommand

from demo.data import load_demo


class Command(BaseCommand):
    help = "Load demo cooperatives, households, catalog and logins from Shitun and Nanming."

    def handle(self, *args, **options):
        if load_demo():
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
