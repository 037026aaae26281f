from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Customer, customer_number_validator
from tickets.models import SlaContract


@extend_schema_field({"type": "string", "anyOf": [{"format": "email"}, {"maxLength": 0}]})
class OptionalEmailField(serializers.CharField):
    """An e-mail address as returned, or "" (which is no "email" to a schema validator)."""


class CustomerSerializer(serializers.ModelSerializer):
    sla: serializers.Field = serializers.SlugRelatedField(
        source="sla_contract", slug_field="code", read_only=True, allow_null=True
    )
    email = OptionalEmailField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "number",
            "name",
            "email",
            "phone",
            "is_managed",
            "sla",
            "admin_arge_id",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerUpsertSerializer(serializers.Serializer):
    """Body of PUT /api/v1/customers/{number}/. Only `name` is required; a field
    left out keeps its stored value (Admin.Arge may send partial records)."""

    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    is_managed = serializers.BooleanField(required=False)
    sla = serializers.SlugRelatedField(
        source="sla_contract",
        slug_field="code",
        queryset=SlaContract.objects.all(),
        required=False,
        allow_null=True,
    )
    admin_arge_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class CustomerNumberSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=10, validators=[customer_number_validator])
