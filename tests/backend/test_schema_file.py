"""The schema is committed as docs/openapi.yaml, so every change to the API contract is a
reviewed diff. Regenerate it with `make schema`."""

from pathlib import Path

from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def test_committed_schema_matches_the_live_one(tmp_path):
    live = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(live))
    assert COMMITTED.read_text() == live.read_text(), (
        "docs/openapi.yaml differs from the live schema: run `make schema` and commit it"
    )
