"""Built for phones on weak networks: ETag / If-None-Match → 304, gzip when accepted, and
cache headers that keep per-user answers out of shared caches."""

import gzip
import json

import pytest

from tests.factories import ListingFactory

URL = "/api/v1/listings/"
GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate"}


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


def detail(listing) -> str:
    return f"{URL}{listing.pk}/"


@pytest.mark.parametrize("headers", [{}, GZIP], ids=["plain", "gzip"])
@pytest.mark.parametrize("which", ["list", "detail"])
def test_if_none_match_with_current_etag_is_304(buyer, listing, headers, which):
    url = URL if which == "list" else detail(listing)
    first = buyer.get(url, **headers)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag
    if headers:
        assert first["Content-Encoding"] == "gzip"
        assert etag.startswith('W/"')  # the compressed bytes differ: a weak validator
    again = buyer.get(url, HTTP_IF_NONE_MATCH=etag, **headers)
    assert again.status_code == 304
    assert again.content == b""
    # Weak comparison: a 304 has no body to compress, so GZipMiddleware leaves its ETag strong.
    assert again["ETag"].removeprefix("W/") == etag.removeprefix("W/")


@pytest.mark.parametrize("which", ["list", "detail"])
def test_etag_from_plain_response_also_matches_a_gzip_request(buyer, listing, which):
    url = URL if which == "list" else detail(listing)
    etag = buyer.get(url)["ETag"]
    assert buyer.get(url, HTTP_IF_NONE_MATCH=etag, **GZIP).status_code == 304


@pytest.mark.parametrize("which", ["list", "detail"])
def test_a_change_to_the_listing_changes_the_etag(manager, listing, which):
    url = URL if which == "list" else detail(listing)
    etag = manager.get(url)["ETag"]
    response = manager.patch(detail(listing), {"packaging": "12 × 1 kg jars"}, format="json")
    assert response.status_code == 200, response.content
    fresh = manager.get(url, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert "12 × 1 kg jars" in fresh.content.decode()


def test_stale_etag_gets_full_response(buyer, listing):
    response = buyer.get(detail(listing), HTTP_IF_NONE_MATCH='"not-the-etag"')
    assert response.status_code == 200
    assert response.json()["id"] == listing.pk


def test_etag_differs_between_users_who_see_different_rows(buyer, manager, cooperative):
    ListingFactory(cooperative=cooperative)
    ListingFactory(cooperative=cooperative, status="draft")  # the manager sees it, buyers not
    buyer_etag = buyer.get(URL)["ETag"]
    assert manager.get(URL, HTTP_IF_NONE_MATCH=buyer_etag).status_code == 200


def test_big_list_is_gzipped_when_accepted(buyer):
    for _ in range(10):
        ListingFactory()
    response = buyer.get(URL, **GZIP)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    body = json.loads(gzip.decompress(response.content))
    assert len(body["results"]) == 10
    plain = buyer.get(URL)
    assert not plain.has_header("Content-Encoding")
    assert len(response.content) < len(plain.content)
    assert plain.json() == body


def test_responses_are_private_and_vary_on_authorization(buyer, listing):
    for url in (URL, detail(listing)):
        response = buyer.get(url)
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert "private" in cache_control
        assert "public" not in cache_control
        vary = {part.strip().lower() for part in response["Vary"].split(",")}
        assert "authorization" in vary


def test_error_responses_are_private_too(anon):
    response = anon.get(URL)
    assert response.status_code == 401
    assert "private" in response["Cache-Control"]
    assert "authorization" in response["Vary"].lower()
