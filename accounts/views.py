from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .authentication import BearerTokenAuthentication
from .serializers import TokenRequestSerializer, TokenResponseSerializer, UserSerializer
from .throttles import LoginIpThrottle, LoginPhoneThrottle


class TokenView(APIView):
    """Log in with phone and password; answers a bearer token for ``Authorization: Bearer``."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIpThrottle, LoginPhoneThrottle]

    @extend_schema(
        summary=_("Log in"),
        request=TokenRequestSerializer,
        responses={201: TokenResponseSerializer},
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, plain = services.token_issue(**data.validated_data)
        body = {"token": plain, "expiry": token.expiry, "user": token.user}
        return Response(TokenResponseSerializer(body).data, status=status.HTTP_201_CREATED)


class LogoutView(APIView):
    """Revoke the bearer token this request is made with."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(summary=_("Log out"), request=None, responses={204: None})
    def post(self, request):
        services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary=_("Read the signed-in user"), responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)
