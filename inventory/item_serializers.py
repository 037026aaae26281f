"""Input and output shapes of the machines API (API.md, "Network"). There is
no secret field in any of them: stored secrets are never part of the API,
not even their labels."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Customer
from inventory.models import (
    ConfigurationItem,
    InstalledSoftware,
    IpAddress,
    ItemKind,
    ItemStatus,
    Location,
)


class IpAddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = IpAddress
        fields = ["address", "is_private"]
        read_only_fields = fields


class InstalledSoftwareSerializer(serializers.ModelSerializer):
    class Meta:
        model = InstalledSoftware
        fields = ["name", "version", "latest_version", "behind"]
        read_only_fields = fields


class MachineSerializer(serializers.ModelSerializer):
    """A machine as returned. `notes` are internal: left out for customers."""

    customer: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    location: serializers.Field = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    product: serializers.Field = serializers.SlugRelatedField(
        slug_field="sku", read_only=True, allow_null=True
    )
    ip_addresses = IpAddressSerializer(many=True, read_only=True)
    software = InstalledSoftwareSerializer(many=True, read_only=True)

    class Meta:
        model = ConfigurationItem
        fields = [
            "hostname",
            "serial_number",
            "kind",
            "machine_type",
            "customer",
            "location",
            "rack",
            "os_name",
            "os_version",
            "status",
            "redundancy_group",
            "product",
            "ip_addresses",
            "software",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: ConfigurationItem) -> dict[str, Any]:
        data = super().to_representation(instance)
        if self.context.get("for_customer"):
            data.pop("notes", None)
        return data


class SoftwareEntrySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    version = serializers.CharField(max_length=50)


def _unique_software(entries: list[dict[str, str]]) -> list[dict[str, str]]:
    # DRF makes a PATCH partial all the way down, so there an entry may lack
    # a field; it is refused as a POST refuses it (it was a KeyError, a 500).
    required = serializers.Field.default_error_messages["required"]
    missing = [{key: [required] for key in ("name", "version") if key not in e} for e in entries]
    if any(missing):
        raise serializers.ValidationError(missing)
    names = [entry["name"].strip().lower() for entry in entries]
    if len(names) != len(set(names)):
        raise serializers.ValidationError("Each software name once.")
    return entries


class MachineWriteSerializer(serializers.Serializer):
    """The fields a client sets: POST creates (kind required, and a hostname
    or a serial number), PATCH changes the fields it names. `ip_addresses`
    and `software`, when given, replace the machine's lists."""

    hostname = serializers.CharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    serial_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True
    )
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    machine_type = serializers.CharField(max_length=100, required=False, allow_blank=True)
    customer: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", queryset=Customer.objects.all(), required=False, allow_null=True
    )
    location: serializers.Field = serializers.SlugRelatedField(
        slug_field="code", queryset=Location.objects.all(), required=False, allow_null=True
    )
    rack = serializers.CharField(max_length=40, required=False, allow_blank=True)
    os_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    os_version = serializers.CharField(max_length=50, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ItemStatus.choices, required=False)
    redundancy_group = serializers.CharField(max_length=100, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    ip_addresses = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=256
    )
    software = SoftwareEntrySerializer(many=True, required=False)

    def validate_software(self, value: list[dict[str, str]]) -> list[dict[str, str]]:
        return _unique_software(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not self.partial and not (attrs.get("hostname") or attrs.get("serial_number")):
            raise serializers.ValidationError(
                {"hostname": ["Give a hostname or a serial number (or both)."]}
            )
        return attrs
