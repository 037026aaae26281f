"""Input and output shapes of the changes API (API.md, "Changes")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Customer
from changes.classifier import QUESTIONS
from changes.models import Advice, Change, Decision
from servicedesk.api import MomentField
from tickets.models import Impact, Ticket


class AnswersSerializer(serializers.Serializer):
    multiple_users = serializers.BooleanField()
    dependencies = serializers.BooleanField()
    unsupported = serializers.BooleanField()
    investment = serializers.BooleanField()


class ChangeSerializer(serializers.ModelSerializer):
    customer: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    ticket: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    decision = serializers.ChoiceField(choices=Decision.choices, read_only=True, allow_blank=True)
    answers = AnswersSerializer(read_only=True)
    justification = serializers.SerializerMethodField()

    class Meta:
        model = Change
        fields = [
            "number",
            "classification",
            "priority",
            "status",
            "subject",
            "message",
            "customer",
            "ticket",
            "impact",
            "urgency",
            "answers",
            "justification",
            "justifications",
            "emergency",
            "planned_start",
            "planned_end",
            "implementation_plan",
            "rollback_plan",
            "affected_machines",
            "decision",
            "decided_at",
            "argumentation",
            "alternatives",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_justification(self, change: Change) -> str:
        """The contract's single text: the distinct justifications in the
        order of the questions (one text when one was given for every yes)."""
        texts: list[str] = []
        for question in QUESTIONS:
            text = (change.justifications or {}).get(question, "")
            if text and text not in texts:
                texts.append(text)
        return "\n".join(texts)


class ChangeCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    message = serializers.CharField(max_length=100_000)
    customer: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", queryset=Customer.objects.all(), required=False, allow_null=True
    )
    ticket: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", queryset=Ticket.objects.all(), required=False, allow_null=True
    )
    impact = serializers.ChoiceField(choices=Impact.choices)
    urgency = serializers.ChoiceField(choices=Impact.choices)
    answers = AnswersSerializer()
    justification = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10_000
    )
    justifications = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=10_000), required=False
    )
    emergency = serializers.BooleanField(default=False)
    planned_start = MomentField(required=False, allow_null=True, default=None)
    planned_end = MomentField(required=False, allow_null=True, default=None)
    implementation_plan = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100_000
    )
    rollback_plan = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100_000
    )
    affected_machines = serializers.ListField(
        child=serializers.CharField(max_length=120), required=False, default=list, max_length=200
    )

    def validate_justifications(self, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - QUESTIONS.keys())
        if unknown:
            raise serializers.ValidationError(f"Unknown questions: {', '.join(unknown)}.")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        start, end = data.get("planned_start"), data.get("planned_end")
        if (start is None) != (end is None):
            field = "planned_end" if start is not None else "planned_start"
            raise serializers.ValidationError({field: ["Give the planned start and end together."]})
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError(
                {"planned_end": ["The planned end must lie after the planned start."]}
            )
        return data

    def service_justifications(self) -> dict[str, str]:
        """One text for every "yes", unless a question has its own."""
        data = self.validated_data
        common, own = data["justification"], data.get("justifications") or {}
        return {question: own.get(question) or common for question in QUESTIONS}


class AdviceCreateSerializer(serializers.Serializer):
    technically_feasible = serializers.BooleanField()
    within_budget = serializers.BooleanField()
    remarks = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class AdviceSerializer(serializers.ModelSerializer):
    change = serializers.CharField(source="change.number", read_only=True)
    member = serializers.CharField(source="member.username", read_only=True)

    class Meta:
        model = Advice
        fields = [
            "change",
            "member",
            "technically_feasible",
            "within_budget",
            "remarks",
            "given_at",
        ]
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    argumentation = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100_000
    )
    alternatives = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100_000
    )
