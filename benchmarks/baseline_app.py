"""The bare-Django baseline of the benchmarks: one view that answers, from memory, the exact
bytes (status, content type, encoding, body) that the project's endpoint answered, for each
recorded path. No database, no middleware, no authentication: what Django itself costs to
serve those bytes on this machine, in this run.

gunicorn serves it as ``baseline_app:application`` (``--chdir benchmarks``); the answers come
from the pickle file named by ``BASELINE_ANSWERS`` (written by ``ratio.record``).
"""

import os
import pickle

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    SECRET_KEY="baseline-only-serves-recorded-bytes",
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402 (after settings.configure)
from django.urls import re_path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

with open(os.environ["BASELINE_ANSWERS"], "rb") as file:
    ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = pickle.load(file)


@csrf_exempt
def recorded(request):
    status, headers, body = ANSWERS[request.get_full_path()]
    response = HttpResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


urlpatterns = [re_path(r"", recorded)]
application = get_wsgi_application()
