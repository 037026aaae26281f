"""Explicit input and output shapes of the backups API."""

from __future__ import annotations

from rest_framework import serializers

from backups.models import BackupCheck, BackupJob, BackupRun, CheckLine, Handling, RunStatus
from servicedesk.api import MomentField


class BackupRunCreateSerializer(serializers.Serializer):
    job = serializers.SlugRelatedField(
        slug_field="reference", queryset=BackupJob.objects.all(), help_text="job reference"
    )
    status = serializers.ChoiceField(choices=RunStatus.choices)
    started_at = MomentField()
    finished_at = MomentField(required=False, allow_null=True, default=None)
    size_bytes = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=2**63 - 1
    )
    message = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10_000, trim_whitespace=False
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["finished_at"] is not None and attrs["finished_at"] < attrs["started_at"]:
            raise serializers.ValidationError(
                {"finished_at": ["A run cannot finish before it started."]}
            )
        return attrs


class BackupRunSerializer(serializers.ModelSerializer):
    job: serializers.Field = serializers.SlugRelatedField(slug_field="reference", read_only=True)

    class Meta:
        model = BackupRun
        fields = [
            "job",
            "status",
            "started_at",
            "finished_at",
            "size_bytes",
            "message",
            "full",
            "source",
            "received_at",
        ]
        read_only_fields = fields


class CheckLineSerializer(serializers.ModelSerializer):
    job: serializers.Field = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    hostname = serializers.CharField(source="job.hostname", read_only=True)
    run = BackupRunSerializer(read_only=True, allow_null=True)
    problem: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    handling = serializers.ChoiceField(choices=Handling.choices, read_only=True, allow_blank=True)

    class Meta:
        model = CheckLine
        fields = [
            "job",
            "hostname",
            "expected_start",
            "expected_finish",
            "full",
            "state",
            "run",
            "handling",
            "reason",
            "problem",
            "handled_at",
        ]
        read_only_fields = fields


class BackupCheckSerializer(serializers.ModelSerializer):
    group: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assignee = serializers.CharField(
        source="task.assignee.username", read_only=True, default=None, allow_null=True
    )
    lines = CheckLineSerializer(many=True, read_only=True)

    class Meta:
        model = BackupCheck
        fields = ["id", "group", "day", "assignee", "created_at", "completed_at", "lines"]
        read_only_fields = fields
