from django.core.management.base import BaseCommand, CommandError

from backend import catalogue


class Command(BaseCommand):
    help = (
        "Bring the Chinese message catalogue up to date with the code and compile it; with "
        "--check, only say what is missing, untranslated or stale (backend/catalogue.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Change nothing; fail if stale.")

    def handle(self, *args, check=False, **options):
        if check:
            found = catalogue.problems()
            if found:
                raise CommandError("The message catalogue is not complete:\n" + "\n".join(found))
            self.stdout.write("The message catalogue is complete.")
            return
        po = catalogue.update()
        untranslated = [line for line in catalogue.problems() if line.startswith("not transl")]
        self.stdout.write(f"Updated {po}.")
        if untranslated:
            self.stdout.write("Translate these, then run it again:\n" + "\n".join(untranslated))
