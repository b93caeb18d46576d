from backend import serializers
from backend.validators import normalize_cn_phone

from .models import User


class TokenRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate_phone(self, value):
        return normalize_cn_phone(value)


class UserSerializer(serializers.ModelSerializer):
    managed_cooperatives = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "phone", "name", "email", "role", "managed_cooperatives"]


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)
    user = UserSerializer()
