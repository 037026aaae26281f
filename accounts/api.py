from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Customer
from accounts.selectors import customer_get, customers_visible_to
from accounts.serializers import (
    CustomerNumberSerializer,
    CustomerSerializer,
    CustomerUpsertSerializer,
)
from accounts.services import customer_upsert


class CustomerFilter(django_filters.FilterSet):
    class Meta:
        model = Customer
        fields = ["active", "is_managed"]


class CustomerListView(generics.ListAPIView):
    serializer_class = CustomerSerializer
    scopes = {"GET": "customers:read"}
    staff_perms = {"GET": "accounts.view_customer"}
    customer_methods = {"GET"}
    filterset_class = CustomerFilter
    search_fields = ["number", "name", "email"]
    ordering_fields = ["number", "name", "updated_at"]
    ordering = ["number"]

    def get_queryset(self):
        return customers_visible_to(self.request.user)


class CustomerDetailView(APIView):
    scopes = {"GET": "customers:read", "PUT": "customers:write"}
    staff_perms = {"GET": "accounts.view_customer", "PUT": "accounts.change_customer"}
    customer_methods = {"GET"}

    @extend_schema(responses=CustomerSerializer)
    def get(self, request: Request, number: str) -> Response:
        customer = customer_get(user=request.user, number=number)
        return Response(CustomerSerializer(customer).data)

    @extend_schema(
        request=CustomerUpsertSerializer,
        responses={
            200: OpenApiResponse(CustomerSerializer, description="Updated"),
            201: OpenApiResponse(CustomerSerializer, description="Created"),
        },
    )
    def put(self, request: Request, number: str) -> Response:
        CustomerNumberSerializer(data={"number": number}).is_valid(raise_exception=True)
        body = CustomerUpsertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer, created = customer_upsert(
            number=number, data=body.validated_data, actor=request.user, now=timezone.now()
        )
        return Response(
            CustomerSerializer(customer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
