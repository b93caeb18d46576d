"""The Chinese message catalogue (locale/zh_Hans/LC_MESSAGES/django.po and .mo): how it is
brought up to date, and the check that keeps it complete (``manage.py messages [--check]``,
run by tests/backend/test_translations.py in ``make test``).

Its scope is every app's code (each top-level folder with an apps.py): the messages people
read in responses, e-mails and the admin. Not the tests, scripts or benchmarks, and not
backend/schema.py: the API's schema is for developers and stays in English.

makemessages always runs in a scratch copy of the apps, so the check never writes to the
working tree and finds exactly what ``manage.py messages`` would write. The check compares
catalogues as gettext reads them (msgfmt, then Python's gettext), not as bytes, so it does
not depend on the version of the gettext tools.
"""

import gettext
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings

LOCALE = "zh_Hans"
NOT_TRANSLATED = {"backend/schema.py"}  # developer-facing: the OpenAPI descriptions
# A placeholder without a name ("%s", "%d"): translators cannot reorder or read it.
UNNAMED_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifrx]")


def catalogue_paths(root: Path | None = None) -> tuple[Path, Path]:
    base = Path(root or settings.BASE_DIR) / "locale" / LOCALE / "LC_MESSAGES"
    return base / "django.po", base / "django.mo"


def _apps(root: Path) -> list[Path]:
    return sorted(path.parent for path in root.glob("*/apps.py"))


def _scratch_copy(root: Path, scratch: Path) -> None:
    """The apps' code and the committed catalogue, in a scratch folder."""
    ignore = shutil.ignore_patterns("__pycache__", "migrations", "*.pyc")
    for app in _apps(root):
        shutil.copytree(app, scratch / app.name, ignore=ignore)
    for name in NOT_TRANSLATED:
        (scratch / name).unlink(missing_ok=True)
    shutil.copy2(root / "manage.py", scratch / "manage.py")
    po, _mo = catalogue_paths(root)
    target, _ = catalogue_paths(scratch)
    target.parent.mkdir(parents=True)
    if po.exists():
        shutil.copy2(po, target)


def _run(args: list[str], cwd: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL",)}
    env.update(DJANGO_SETTINGS_MODULE="backend.settings", PYTHONPATH=str(cwd))
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def extract(root: Path, scratch: Path) -> Path:
    """makemessages over a scratch copy of the apps; the .po it writes (the committed one,
    merged with the messages the code holds now, the ones it no longer holds left out)."""
    _scratch_copy(root, scratch)
    _run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            LOCALE,
            "--no-location",  # stable diffs: no line numbers
            "--no-obsolete",
            "--ignore",
            "var/*",
        ],
        scratch,
    )
    return catalogue_paths(scratch)[0]


def update(root: Path | None = None) -> Path:
    """Bring the committed .po up to date with the code and compile the .mo. New messages
    arrive untranslated: translate them in the .po, then run this again."""
    root = Path(root or settings.BASE_DIR)
    po, mo = catalogue_paths(root)
    with tempfile.TemporaryDirectory() as scratch:
        fresh = extract(root, Path(scratch))
        po.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fresh, po)
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)
    return po


def _catalog(mo: Path) -> dict:
    with mo.open("rb") as file:
        entries = dict(gettext.GNUTranslations(file)._catalog)
    entries.pop("", None)  # the header
    return entries


def _compile(po: Path, mo: Path) -> str:
    """msgfmt with its checks (placeholders of python-format messages, the header); "" or
    what msgfmt said was wrong."""
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(mo), str(po)], capture_output=True, text=True
    )
    return result.stderr if result.returncode else ""


def _msgid(key) -> str:
    msgid = key[0] if isinstance(key, tuple) else key
    return msgid.replace("\x04", " | ")  # context | message


def problems(root: Path | None = None) -> list[str]:
    """What is wrong with the committed catalogue: messages of the code missing from it,
    untranslated or fuzzy; messages it holds that the code no longer has; placeholders that
    differ; unnamed placeholders; a .mo that is not the .po compiled."""
    root = Path(root or settings.BASE_DIR)
    po, mo = catalogue_paths(root)
    found: list[str] = []
    if not po.exists() or not mo.exists():
        return [f"{po} or {mo} is missing: run `manage.py messages`"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fresh = extract(root, tmp / "scratch")
        # Every message of the code, "translated" as itself and not fuzzy (msgmerge marks a
        # new message fuzzy when it resembles an old one), so msgfmt keeps them all.
        subprocess.run(["msgen", "-o", str(tmp / "en.po"), str(fresh)], check=True)
        subprocess.run(
            ["msgattrib", "--clear-fuzzy", "-o", str(tmp / "all.po"), str(tmp / "en.po")],
            check=True,
        )
        subprocess.run(["msgfmt", "-o", str(tmp / "all.mo"), str(tmp / "all.po")], check=True)
        wanted = _catalog(tmp / "all.mo")
        error = _compile(po, tmp / "committed.mo")
        if error:
            return [f"msgfmt --check refuses {po}:\n{error}"]
        translated = _catalog(tmp / "committed.mo")
        # A fresh catalogue holds the same, in the order and form makemessages writes.
        if "#~" in po.read_text(encoding="utf-8"):
            found.append("obsolete entries (#~): run `manage.py messages`")
    for key in sorted(set(wanted) - set(translated), key=str):
        found.append(f"not translated: {_msgid(key)!r}")
    for key in sorted(set(translated) - set(wanted), key=str):
        found.append(f"no longer in the code: {_msgid(key)!r}")
    for key in sorted(wanted, key=str):
        if UNNAMED_PLACEHOLDER.search(_msgid(key).replace("%%", "")):
            found.append(f"unnamed placeholder (use %(name)s): {_msgid(key)!r}")
    if _catalog(mo) != translated:
        found.append(f"{mo} is stale: run `manage.py messages` (or compilemessages)")
    return found
