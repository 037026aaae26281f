from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BusinessCalendar(models.Model):
    """When the SLA clock runs: opening hours on chosen weekdays, optionally
    closed on Dutch public holidays, or around the clock (24x7)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    always_open = models.BooleanField(_("24x7"), default=False)
    opens_at = models.TimeField(_("opens at"), default=time(8, 30))
    closes_at = models.TimeField(_("closes at"), default=time(17, 30))
    weekdays = models.JSONField(
        _("weekdays"), default=list, help_text=_("0 = Monday … 6 = Sunday, e.g. [0, 1, 2, 3, 4]")
    )
    dutch_holidays = models.BooleanField(_("closed on Dutch public holidays"), default=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(always_open=True) | Q(closes_at__gt=models.F("opens_at")),
                name="calendar_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaContract(models.Model):
    """An SLA contract a customer has: per priority a response target, a
    resolution target and the calendar their clock runs on (SlaTarget)."""

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", _("Use lowercase letters, digits, - and _."))
        ],
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("SLA contract")
        verbose_name_plural = _("SLA contracts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TaskStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


# The only allowed changes of a task's status; enforced in services.task_transition.
TASK_TRANSITIONS: dict[str, set[str]] = {
    TaskStatus.OPEN: {TaskStatus.CLOSED},
    TaskStatus.CLOSED: {TaskStatus.OPEN},
}


class Task(models.Model):
    """A "taak" in an engineer's personal task box. It may hang under a parent
    task and belong to a ticket, change, backup check, update or delivery."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("creator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_tasks",
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    closing_remark = models.TextField(_("closing remark"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent task"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subtasks",
    )
    link_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    link_id = models.PositiveBigIntegerField(null=True, blank=True)
    link = GenericForeignKey("link_type", "link_id")
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_date", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(link_type__isnull=True, link_id__isnull=True)
                | Q(link_type__isnull=False, link_id__isnull=False),
                name="task_link_complete_or_absent",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="task_closed_at_matches_status",
            ),
        ]
        indexes = [
            # tasks_for(user, status=open): the personal task box, by due date.
            models.Index(fields=["assignee", "status", "due_date"], name="task_box_idx"),
            # tasks_linked_to(obj): the tasks under a ticket, change or check.
            models.Index(fields=["link_type", "link_id"], name="task_link_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def reference(self) -> str:
        return f"task {self.title[:80]}"


class Impact(models.TextChoices):
    HIGH = "high", _("high")
    MEDIUM = "medium", _("medium")
    LOW = "low", _("low")


Urgency = Impact


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 - unreachable")
    P2 = 2, _("P2 - degraded")
    P3 = 3, _("P3 - hardly noticeable")


class SlaTarget(models.Model):
    contract = models.ForeignKey(SlaContract, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(
        _("response target (minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution target (minutes)"), null=True, blank=True
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["contract", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "priority"], name="slatarget_once_per_priority"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} P{self.priority}"


class PriorityMatrix(models.Model):
    """Priority from impact x urgency: data, looked up, never branched on."""

    impact = models.CharField(_("impact"), max_length=6, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=6, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    class Meta:
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix")
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["impact", "urgency"], name="prioritymatrix_cell_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.impact} x {self.urgency} = P{self.priority}"


class CauseCode(models.Model):
    """The managed list of causes recorded when an incident is resolved."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("cause code")
        verbose_name_plural = _("cause codes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A department or queue tickets are routed to."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketType(models.TextChoices):
    INCIDENT = "incident", _("incident")
    CHANGE_REQUEST = "change_request", _("change request")
    INFORMATION_REQUEST = "information_request", _("information request")
    SERVICE_REQUEST = "service_request", _("service request")


class Channel(models.TextChoices):
    PORTAL = "portal", _("portal")
    EMAIL = "email", _("email")
    PHONE = "phone", _("phone")
    MONITORING = "monitoring", _("monitoring")
    STAFF = "staff", _("staff")
    API = "api", _("API")


class Category(models.TextChoices):
    HARDWARE = "hardware", _("hardware")
    SOFTWARE = "software", _("software")
    NETWORK = "network", _("network")
    SECURITY = "security", _("security")
    SERVICE_REQUEST = "service_request", _("service request")
    OTHER = "other", _("other")


class TicketStatus(models.TextChoices):
    NEW = "new", _("new")
    OPEN = "open", _("open")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("waiting on customer")
    ESCALATED = "escalated", _("escalated")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


# The only allowed changes of a ticket's status; enforced in services.ticket_transition.
TICKET_TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.NEW: {TicketStatus.OPEN, TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.RESOLVED},
    TicketStatus.OPEN: {
        TicketStatus.WAITING_ON_CUSTOMER,
        TicketStatus.ESCALATED,
        TicketStatus.RESOLVED,
    },
    TicketStatus.WAITING_ON_CUSTOMER: {TicketStatus.OPEN, TicketStatus.RESOLVED},
    TicketStatus.ESCALATED: {
        TicketStatus.OPEN,
        TicketStatus.WAITING_ON_CUSTOMER,
        TicketStatus.RESOLVED,
    },
    TicketStatus.RESOLVED: {TicketStatus.OPEN, TicketStatus.CLOSED},
    TicketStatus.CLOSED: set(),
}
# While in these statuses the SLA clock stands still.
PAUSED_STATUSES = {TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.RESOLVED, TicketStatus.CLOSED}
ACTIVE_STATUSES = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.ESCALATED]


class Resolution(models.TextChoices):
    SOLVED = "solved", _("solved")
    WORKAROUND = "workaround", _("workaround")
    QUICK_FIX = "quick_fix", _("quick fix")
    CHANGE_RAISED = "change_raised", _("change raised")
    NOT_SOLVABLE = "not_solvable", _("not solvable")
    PROBLEM = "problem", _("problem")


_ACTIVE = Q(status__in=["new", "open", "escalated"])


class Ticket(models.Model):
    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)
    # Empty only for mail from an unknown sender, until triage sets it.
    customer = models.ForeignKey(
        "accounts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="tickets",
        null=True,
        blank=True,
    )
    needs_triage = models.BooleanField(_("needs triage"), default=False)
    # An outside system's key for what the ticket is about, e.g. a monitoring
    # check "monitoring:web01/http"; repeated alerts thread into the open ticket.
    external_ref = models.CharField(_("external reference"), max_length=200, blank=True)
    # Full-text search document (PostgreSQL): subject, customer and messages,
    # kept by the services; a GIN index serves ticket_search.
    search_vector = SearchVectorField(null=True, editable=False)
    # Where to answer a ticket that came by mail, when no portal user asked.
    reply_to = models.EmailField(_("reply to"), blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=TicketType.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    impact = models.CharField(_("impact"), max_length=6, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=6, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    requested_priority = models.PositiveSmallIntegerField(
        _("requested priority"), choices=Priority.choices, null=True, blank=True
    )
    # Impact and urgency were set by staff (not just proposed by the channel).
    classified = models.BooleanField(_("classified"), default=False)
    is_managed = models.BooleanField(_("managed customer"), default=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requested_tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution = models.CharField(
        _("resolution"), max_length=16, choices=Resolution.choices, blank=True
    )
    cause_code = models.ForeignKey(
        CauseCode, verbose_name=_("cause code"), on_delete=models.PROTECT, null=True, blank=True
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)
    escalated = models.BooleanField(_("escalated"), default=False)
    # SLA: the contract in force and what the pure engine (tickets/sla.py)
    # computed from the event log; a cache that indexes can serve.
    sla_contract = models.ForeignKey(
        SlaContract, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    response_breached = models.BooleanField(_("response breached"), default=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False)
    # Claim markers of the sweeper: set once by a conditional UPDATE, so each
    # warning and breach is announced exactly once per ticket and target.
    response_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    response_breach_recorded_at = models.DateTimeField(null=True, blank=True)
    resolution_breach_recorded_at = models.DateTimeField(null=True, blank=True)
    extended_until = models.DateTimeField(_("extended until"), null=True, blank=True)
    # SLA-clock time to the first response and to the resolution (business
    # hours of the contract's calendar, pauses excluded), for the reports.
    response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        permissions = [
            ("approve_extension", _("Can approve SLA extensions")),
            ("decide_escalation", _("Can decide functional escalations")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_priority__isnull=True) | Q(requested_priority__in=[1, 2, 3]),
                name="ticket_requested_priority_range",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=[1, 2, 3]), name="ticket_priority_range"
            ),
        ]
        indexes = [
            # sweep_sla: due or warning moments of tickets whose clock runs and
            # whose announcement is still to come; only such rows are indexed,
            # so a sweep costs what is due, not what is open.
            models.Index(
                fields=["response_due_at"],
                condition=_ACTIVE
                & Q(response_breach_recorded_at__isnull=True, first_response_at__isnull=True),
                name="ticket_sweep_response_due_idx",
            ),
            models.Index(
                fields=["response_warn_at"],
                condition=_ACTIVE
                & Q(response_warned_at__isnull=True, first_response_at__isnull=True),
                name="ticket_sweep_response_warn_idx",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=_ACTIVE & Q(resolution_breach_recorded_at__isnull=True),
                name="ticket_sweep_resol_due_idx",
            ),
            models.Index(
                fields=["resolution_warn_at"],
                condition=_ACTIVE & Q(resolution_warned_at__isnull=True),
                name="ticket_sweep_resol_warn_idx",
            ),
            # close_resolved_tickets: resolved tickets by resolution time.
            models.Index(
                fields=["resolved_at"], condition=Q(status="resolved"), name="ticket_resolved_idx"
            ),
            # the queue: unclosed tickets, unclassified first, then by due time.
            models.Index(
                fields=["classified", "resolution_due_at"],
                condition=~Q(status="closed"),
                name="ticket_queue_idx",
            ),
            # the queue narrowed to one assignee (and the queue's "mine" counter):
            # their unclosed tickets in queue order, without visiting their history.
            models.Index(
                fields=["assignee", "classified", "resolution_due_at"],
                condition=~Q(status="closed"),
                name="ticket_queue_assignee_idx",
            ),
            # a customer's history, newest first.
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_idx"),
            # monitoring_alert_receive: the open ticket of an alert key.
            models.Index(
                fields=["external_ref"],
                condition=~Q(external_ref="") & ~Q(status__in=["resolved", "closed"]),
                name="ticket_external_open_idx",
            ),
            # API list default order (newest first) and its breached filter.
            models.Index(fields=["-created_at"], name="ticket_created_idx"),
            # reports.selectors.incident_kpis: tickets answered / resolved in a period.
            models.Index(fields=["first_response_at"], name="ticket_responded_idx"),
            models.Index(fields=["resolved_at"], name="ticket_resolved_at_idx"),
            # ... and breaches recorded in a period: with these every branch of
            # the report's OR is indexed (a bitmap OR instead of a table scan).
            models.Index(
                fields=["response_breach_recorded_at"],
                name="ticket_resp_breach_at_idx",
                condition=Q(response_breach_recorded_at__isnull=False),
            ),
            models.Index(
                fields=["resolution_breach_recorded_at"],
                name="ticket_resol_breach_at_idx",
                condition=Q(resolution_breach_recorded_at__isnull=False),
            ),
            models.Index(
                fields=["-created_at"],
                condition=Q(response_breached=True) | Q(resolution_breached=True),
                name="ticket_breached_idx",
            ),
            # API list filters by status / assignee, newest first.
            models.Index(fields=["status", "-created_at"], name="ticket_status_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def reference(self) -> str:
        return self.number or ""


class Message(models.Model):
    """One entry of a ticket's conversation: a public reply or an internal note."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_label = models.CharField(max_length=150)
    from_customer = models.BooleanField(default=False)
    public = models.BooleanField(_("public"), default=True)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            # the conversation of a ticket in order.
            models.Index(fields=["ticket", "created_at"], name="message_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.author_label}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.message.ticket_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(upload_to=attachment_path)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class RequestStatus(models.TextChoices):
    """Where a request that a manager decides stands (extensions, escalations)."""

    REQUESTED = "requested", _("requested")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


class Extension(models.Model):
    """A request to move the resolution due time ("verlenging"), at most one
    approved per ticket, decided by the IT manager."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="extensions")
    reason = models.TextField(_("reason"))
    appointment = models.DateTimeField(_("follow-up appointment"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        constraints = [
            # "At most once per ticket" as a database fact.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="approved"), name="extension_once_per_ticket"
            ),
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="requested"), name="extension_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.status}"


class Escalation(models.Model):
    """A functional escalation: the assignee asks, the head of department decides;
    on approval a senior engineer gets a subtask. The assignee keeps the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    reason = models.TextField(_("reason"))
    tried_together = models.BooleanField(_("first tried together"))
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    task = models.ForeignKey(
        Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="requested"), name="escalation_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.status}"


class InboundMailStatus(models.TextChoices):
    CREATED = "created", _("ticket created")
    THREADED = "threaded", _("added to a ticket")
    IGNORED = "ignored", _("ignored (auto-reply or bounce)")
    QUARANTINED = "quarantined", _("quarantined")


class InboundMail(models.Model):
    """Every mail read by ingest_mail, once: the Message-ID is unique, so a
    mailbox read twice creates nothing new."""

    message_id = models.CharField(max_length=255, unique=True)
    received_at = models.DateTimeField()
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=InboundMailStatus.choices)
    reason = models.TextField(blank=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The raw message is kept for quarantined mail, so nothing is lost.
    raw = models.BinaryField(null=True, blank=True)

    class Meta:
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mails")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.status}"


class CallCard(models.Model):
    """A phone call noted by the desk ("belkaart"); it can become a ticket."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    phone = models.CharField(_("phone"), max_length=40)
    customer = models.ForeignKey(
        "accounts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    caller = models.CharField(_("caller"), max_length=200, blank=True)
    summary = models.TextField(_("summary"))
    received_at = models.DateTimeField(_("received at"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    taken_by_label = models.CharField(max_length=150, blank=True)
    ticket = models.OneToOneField(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="call_card"
    )

    class Meta:
        verbose_name = _("call card")
        verbose_name_plural = _("call cards")
        ordering = ["-received_at"]
        indexes = [
            # the call-card page: cards not yet turned into tickets, newest first.
            models.Index(
                fields=["-received_at"], condition=Q(ticket__isnull=True), name="callcard_open_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.received_at:%Y-%m-%d %H:%M}"


class Article(models.Model):
    """A knowledge-base article: symptom, cause, solution or workaround."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    symptom = models.TextField(_("symptom"))
    cause = models.TextField(_("cause"), blank=True)
    solution = models.TextField(_("solution or workaround"))
    is_workaround = models.BooleanField(_("workaround, not a solution"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    tickets: models.ManyToManyField[Ticket, ArticleLink] = models.ManyToManyField(
        Ticket, through="ArticleLink", related_name="articles"
    )

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("knowledge base")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ArticleLink(models.Model):
    """An article used on a ticket; the number of links is the article's use count."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="links")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="article_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "ticket"], name="articlelink_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} - {self.ticket_id}"


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("open")
    KNOWN_ERROR = "known_error", _("known error")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


# The only allowed changes of a problem's status; enforced in services.problem_transition.
PROBLEM_TRANSITIONS: dict[str, set[str]] = {
    ProblemStatus.OPEN: {ProblemStatus.KNOWN_ERROR, ProblemStatus.RESOLVED},
    ProblemStatus.KNOWN_ERROR: {ProblemStatus.RESOLVED},
    ProblemStatus.RESOLVED: {ProblemStatus.CLOSED, ProblemStatus.OPEN},
    ProblemStatus.CLOSED: set(),
}


class Problem(models.Model):
    """Recurring incidents without a fix, grouped; a known error carries its workaround."""

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    status = models.CharField(
        _("status"), max_length=12, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    root_cause = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    incidents = models.ManyToManyField(Ticket, blank=True, related_name="problems")
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="known_error") | ~Q(workaround=""),
                name="problem_known_error_workaround",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def reference(self) -> str:
        return self.number or ""
