from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Customer, User
from servicedesk.api import MomentField
from tickets.models import (
    CallCard,
    Category,
    CauseCode,
    Channel,
    Department,
    Impact,
    Message,
    Priority,
    Resolution,
    Task,
    Ticket,
    TicketStatus,
    TicketType,
)


class TaskSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    assignee: serializers.Field = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    creator: serializers.Field = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    parent: serializers.SlugRelatedField = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="public_id", read_only=True, allow_null=True
    )
    link = serializers.SerializerMethodField()
    open_subtasks = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "assignee",
            "creator",
            "due_date",
            "status",
            "closing_remark",
            "closed_at",
            "parent",
            "link",
            "open_subtasks",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_link(self, task: Task) -> dict[str, str] | None:
        if task.link_type_id is None:
            return None
        target = task.link
        return {
            "type": task.link_type.model if task.link_type else "",
            "reference": str(getattr(target, "reference", None) or target or ""),
        }


class TaskCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_staff=True, is_active=True)
    )
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    parent = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="public_id", queryset=Task.objects.all(), required=False, allow_null=True
    )


class TaskCloseSerializer(serializers.Serializer):
    remark = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class TicketSerializer(serializers.ModelSerializer):
    # The related fields are declared nullable, and the blank resolution
    # allowed, so the schema says what an unassigned or open ticket looks like.
    customer: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    assignee: serializers.Field = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    department: serializers.Field = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    cause_code: serializers.Field = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    resolution = serializers.ChoiceField(
        choices=Resolution.choices, read_only=True, allow_blank=True
    )

    class Meta:
        model = Ticket
        fields = [
            "number",
            "customer",
            "subject",
            "type",
            "channel",
            "category",
            "impact",
            "urgency",
            "priority",
            "requested_priority",
            "classified",
            "status",
            "assignee",
            "department",
            "response_due_at",
            "resolution_due_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "response_breached",
            "resolution_breached",
            "escalated",
            "extended_until",
            "resolution",
            "cause_code",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TicketCreateSerializer(serializers.Serializer):
    customer: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", queryset=Customer.objects.all()
    )
    subject = serializers.CharField(max_length=200)
    message = serializers.CharField(max_length=100_000)
    type = serializers.ChoiceField(choices=TicketType.choices)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    category = serializers.ChoiceField(choices=Category.choices, default=Category.OTHER)
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Impact.choices, required=False)
    requested_priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, allow_null=True
    )

    def validate(self, data: dict) -> dict:
        if ("impact" in data) != ("urgency" in data):
            raise serializers.ValidationError(
                {"urgency" if "impact" in data else "impact": ["Give impact and urgency together."]}
            )
        return data


class TicketUpdateSerializer(serializers.Serializer):
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Impact.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    type = serializers.ChoiceField(choices=TicketType.choices, required=False)
    assignee: serializers.Field = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_staff=True, is_active=True),
        required=False,
        allow_null=True,
    )
    department: serializers.Field = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), required=False
    )


class AttachmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_label", read_only=True)
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "author", "from_customer", "public", "body", "created_at", "attachments"]
        read_only_fields = fields

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, message: Message) -> list[dict[str, object]]:
        return [
            {
                "id": str(a.public_id),
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
            }
            for a in message.attachments.all()
        ]


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=100_000)
    public = serializers.BooleanField(default=True)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=TicketStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    resolution = serializers.ChoiceField(choices=Resolution.choices, required=False, default="")
    cause_code: serializers.Field = serializers.SlugRelatedField(
        slug_field="code",
        queryset=CauseCode.objects.filter(active=True),
        required=False,
        default=None,
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class CallCardSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    customer: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    ticket: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )

    class Meta:
        model = CallCard
        fields = ["id", "phone", "customer", "caller", "summary", "received_at", "ticket"]
        read_only_fields = fields


class CallCardCreateSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=40)
    customer = serializers.CharField(
        max_length=10, required=False, allow_blank=True, allow_null=True
    )
    caller = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    summary = serializers.CharField(max_length=10_000)
    received_at = MomentField()


class MonitoringAlertSerializer(serializers.Serializer):
    host = serializers.CharField(max_length=120)
    service = serializers.CharField(max_length=120)
    severity = serializers.ChoiceField(choices=["critical", "warning", "info"])
    summary = serializers.CharField(max_length=2000)
    customer = serializers.CharField(
        max_length=10, required=False, allow_blank=True, allow_null=True
    )


class MonitoringResultSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    created = serializers.BooleanField()
    assignee = serializers.CharField(allow_null=True)
