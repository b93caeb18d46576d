from django.core.exceptions import ValidationError as DjangoValidationError

from backend import serializers
from backend.validators import normalize_cn_phone

from .models import User


class LoginPhoneField(serializers.CharField):
    """The phone a person signs in with, however they type it (13800000001, "+86 138-0000-0001",
    0086…, a JSON number), as E.164. The login serializer, the login throttle and the
    authentication backend (API and admin) all read the phone through this one field, so every
    spelling that can sign in counts against the same limit."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return normalize_cn_phone(super().to_internal_value(data))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


def parse_login_phone(value) -> str | None:
    """E.164 of what a login attempt names as its phone, or None if no account can have it."""
    try:
        return LoginPhoneField().run_validation(value)
    except serializers.ValidationError:
        return None


class TokenRequestSerializer(serializers.Serializer):
    phone = LoginPhoneField()
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class UserSerializer(serializers.ModelSerializer):
    managed_cooperatives = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "phone", "name", "email", "role", "managed_cooperatives"]


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)
    user = UserSerializer()
