"""A view that calls a payment provider declares the answers the provider adds
(``provider_error_codes``), and the schema documents them in the one error shape, so a
client generated from it knows a 503 when the Stripe rail is off."""

from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.response import Response
from rest_framework.views import APIView

from backend import serializers


class Charge(serializers.Serializer):
    order = serializers.IntegerField()


def schema_of(view) -> dict:
    generator = SchemaGenerator(patterns=[path("api/v1/charges/", view.as_view())])
    return generator.get_schema(request=None, public=True)["paths"]["/api/v1/charges/"]["post"]


class PlainView(APIView):
    serializer_class = Charge

    def post(self, request):
        return Response({})


class ProviderView(PlainView):
    provider_error_codes = ("402", "503")


def test_provider_answers_are_documented_in_the_error_shape():
    responses = schema_of(ProviderView)["responses"]
    for code in ("402", "503"):
        assert responses[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        assert responses[code]["description"]


def test_a_view_that_calls_no_provider_documents_neither():
    responses = schema_of(PlainView)["responses"]
    assert "402" not in responses and "503" not in responses
