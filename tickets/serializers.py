from __future__ import annotations

from rest_framework import serializers

from accounts.models import User
from tickets.models import Task


class TaskSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    assignee: serializers.Field = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    creator: serializers.Field = serializers.SlugRelatedField(slug_field="username", read_only=True)
    parent: serializers.SlugRelatedField = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="public_id", read_only=True
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
