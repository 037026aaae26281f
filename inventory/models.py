"""Network: configuration items with their addresses, software and secrets;
stock (products, levels per location, the movement ledger, purchase orders,
receipts, counts); machine updates; new customer environment deliveries."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer

# --- Locations ------------------------------------------------------------------


class Location(models.Model):
    """Where machines and stock are: the Maassluis office or an Amsterdam
    datacenter. Receiving in a datacenter is for senior engineers only and
    the goods are linked to the customer."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_datacenter = models.BooleanField(_("datacenter"), default=False)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Configuration items --------------------------------------------------------


class ItemKind(models.TextChoices):
    PHYSICAL = "physical", _("physical server")
    VPS_HYPERV = "vps_hyperv", _("VPS (Hyper-V)")
    VPS_VMWARE = "vps_vmware", _("VPS (VMware)")
    SWITCH = "switch", _("switch")
    FIREWALL = "firewall", _("firewall")
    OTHER = "other", _("other")


class ItemStatus(models.TextChoices):
    ORDERED = "ordered", _("ordered")
    IN_STOCK = "in_stock", _("in stock")
    INSTALLED = "installed", _("installed")
    IN_PRODUCTION = "in_production", _("in production")
    DECOMMISSIONED = "decommissioned", _("decommissioned")


# The only allowed changes of an item's status; enforced in item_services.item_transition.
ITEM_TRANSITIONS: dict[str, set[str]] = {
    ItemStatus.ORDERED: {ItemStatus.IN_STOCK, ItemStatus.INSTALLED, ItemStatus.DECOMMISSIONED},
    ItemStatus.IN_STOCK: {ItemStatus.INSTALLED, ItemStatus.DECOMMISSIONED},
    ItemStatus.INSTALLED: {
        ItemStatus.IN_PRODUCTION,
        ItemStatus.IN_STOCK,
        ItemStatus.DECOMMISSIONED,
    },
    ItemStatus.IN_PRODUCTION: {ItemStatus.INSTALLED, ItemStatus.DECOMMISSIONED},
    ItemStatus.DECOMMISSIONED: set(),
}


class ConfigurationItem(models.Model):
    """A machine or network device. Addressed by hostname (or serial number
    while it has no hostname yet, e.g. a server just received into stock)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hostname = models.CharField(_("hostname"), max_length=200, null=True, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=ItemKind.choices)
    machine_type = models.CharField(_("machine type"), max_length=100, blank=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="machines",
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
    )
    rack = models.CharField(_("rack"), max_length=40, blank=True)
    os_name = models.CharField(_("OS"), max_length=100, blank=True)
    os_version = models.CharField(_("OS version"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=ItemStatus.choices, default=ItemStatus.IN_STOCK
    )
    redundancy_group = models.CharField(_("redundancy group"), max_length=100, blank=True)
    product = models.ForeignKey(
        "Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("configuration item")
        verbose_name_plural = _("configuration items")
        ordering = ["hostname", "serial_number"]
        constraints = [
            models.UniqueConstraint(fields=["hostname"], name="ci_hostname_unique"),
            models.UniqueConstraint(fields=["serial_number"], name="ci_serial_unique"),
            models.CheckConstraint(
                condition=Q(hostname__isnull=False) | Q(serial_number__isnull=False),
                name="ci_has_hostname_or_serial",
            ),
            models.CheckConstraint(condition=~Q(hostname=""), name="ci_hostname_null_not_blank"),
            models.CheckConstraint(condition=~Q(serial_number=""), name="ci_serial_null_not_blank"),
        ]
        indexes = [
            # items_visible_to(customer): a customer's machines, by hostname.
            models.Index(fields=["customer", "hostname"], name="ci_customer_idx"),
            # the item list filtered by status and kind.
            models.Index(fields=["status", "kind"], name="ci_status_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.hostname or self.serial_number or str(self.public_id)

    def get_absolute_url(self) -> str:
        return reverse("inventory-item", args=[self.reference])

    @property
    def reference(self) -> str:
        return self.hostname or self.serial_number or ""


class IpAddress(models.Model):
    """An address of an item. Public addresses are unique everywhere; a
    private (RFC 1918) address only within one customer's network."""

    item = models.ForeignKey(
        ConfigurationItem, on_delete=models.CASCADE, related_name="ip_addresses"
    )
    address = models.GenericIPAddressField(_("IP address"))
    is_private = models.BooleanField(_("private"), default=False)
    # Copied from the item (by the service) so the private-address rule is a
    # database constraint; 0 stands for "no customer" (the company's own).
    customer_key = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("IP address")
        verbose_name_plural = _("IP addresses")
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(
                fields=["address"], condition=Q(is_private=False), name="ip_public_unique"
            ),
            models.UniqueConstraint(
                fields=["customer_key", "address"],
                condition=Q(is_private=True),
                name="ip_private_unique_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return self.address


class InstalledSoftware(models.Model):
    item = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="software")
    name = models.CharField(_("software"), max_length=100)
    version = models.CharField(_("version"), max_length=50)
    # Kept current by update_services when a release or a version is registered:
    # the "machines behind" list reads it through an index instead of comparing
    # versions row by row.
    latest_version = models.CharField(_("latest version"), max_length=50, blank=True)
    behind = models.BooleanField(_("behind"), default=False)

    class Meta:
        verbose_name = _("installed software")
        verbose_name_plural = _("installed software")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="software_once_per_item"),
        ]
        indexes = [
            # machines_behind(): only rows that are behind are in the index.
            models.Index(fields=["name"], name="software_behind_idx", condition=Q(behind=True)),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class SoftwareRelease(models.Model):
    """The newest known version of a piece of software and where it was seen."""

    name = models.CharField(_("software"), max_length=100, unique=True)
    version = models.CharField(_("version"), max_length=50)
    source = models.CharField(_("source"), max_length=300, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"))

    class Meta:
        verbose_name = _("software release")
        verbose_name_plural = _("software releases")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Secret(models.Model):
    """A stored credential of an item (e.g. the server password). Only the
    ciphertext is stored (Fernet, key from NETWORK_SECRET_KEY); revealing the
    value is a separate, logged action. Never in lists, exports, the API or logs."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    item = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="secrets")
    label = models.CharField(_("label"), max_length=100)
    ciphertext = models.BinaryField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("secret")
        verbose_name_plural = _("secrets")
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["item", "label"], name="secret_label_once_per_item"),
        ]
        permissions = [("reveal_secret", "Reveal stored secrets")]

    def __str__(self) -> str:
        return f"{self.label} ({self.item})"

    def __repr__(self) -> str:
        return f"<Secret {self.label} of {self.item_id}>"


# --- Stock ----------------------------------------------------------------------


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductKind(models.TextChoices):
    SERVER = "server", _("server")
    NETWORK = "network", _("network device")
    PART = "part", _("part")
    CONSUMABLE = "consumable", _("consumable")


class Product(models.Model):
    """A stock article. Received servers and network devices become
    configuration items (one per unit, by serial number)."""

    sku = models.SlugField(_("article number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=ProductKind.choices)
    item_kind = models.CharField(
        _("becomes item of kind"), max_length=12, choices=ItemKind.choices, blank=True
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2, default=0)
    reorder_level = models.PositiveIntegerField(_("reorder level"), default=0)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="products"
    )
    active = models.BooleanField(_("active"), default=True)
    # Set when the reorder alert went out, cleared when stock is above the
    # level again, so each shortage alerts once.
    reorder_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def becomes_item(self) -> bool:
        return bool(self.item_kind)


class StockLevel(models.Model):
    """The quantity of a product at a location. Changed only by
    stock_services with an F() update and a ledger row in one transaction;
    the check constraint makes a negative quantity impossible even when two
    issues race."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="levels")
    quantity = models.IntegerField(_("quantity"), default=0)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["location__name", "product__name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_once_per_place"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_never_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} @ {self.location.code}: {self.quantity}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("receipt")
    ISSUE = "issue", _("issue")
    COUNT = "count", _("count difference")
    TRANSFER_OUT = "transfer_out", _("transfer out")
    TRANSFER_IN = "transfer_in", _("transfer in")


class StockMovement(models.Model):
    """The ledger: every change of a stock level, with the balance after it."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=12, choices=MovementKind.choices)
    quantity = models.IntegerField(_("quantity"))
    balance_after = models.IntegerField(_("balance after"))
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="stock_movements"
    )
    item = models.ForeignKey(
        ConfigurationItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    order_line = models.ForeignKey(
        "PurchaseOrderLine", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="movement_balance_ok"),
        ]
        indexes = [
            # the ledger of one product at one place, newest first.
            models.Index(fields=["product", "location", "-created_at"], name="movement_ledger_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.product.sku}"


class OrderStatus(models.TextChoices):
    ORDERED = "ordered", _("ordered")
    PARTIAL = "partial", _("partially received")
    RECEIVED = "received", _("received")
    CANCELLED = "cancelled", _("cancelled")


class PurchaseOrder(models.Model):
    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders")
    destination = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchase_orders",
    )
    expected_on = models.DateField(_("expected on"))
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.ORDERED
    )
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField(_("ordered at"))
    received_at = models.DateTimeField(_("fully received at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-ordered_at"]
        indexes = [
            # open_orders(): orders still to be received, by expected date.
            models.Index(
                fields=["expected_on"],
                name="po_open_idx",
                condition=Q(status__in=["ordered", "partial"]),
            ),
        ]

    def __str__(self) -> str:
        return self.number or ""

    def get_absolute_url(self) -> str:
        return reverse("inventory-order", args=[self.number])

    @property
    def reference(self) -> str:
        return self.number or ""


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField(_("quantity"))
    received_quantity = models.PositiveIntegerField(_("received"), default=0)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="po_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")), name="po_line_not_over_received"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product.sku}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received_quantity


class Receipt(models.Model):
    """Goods put away: who received what, where, when. The one who puts the
    stock away registers it."""

    order_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipts"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="receipt_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line.product.sku}"


class CountStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")


class StockCount(models.Model):
    """A periodic count of one location by an assigned controller; the
    differences are booked as movements when it is closed."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="counts")
    controller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("controller"),
        on_delete=models.PROTECT,
        related_name="stock_counts",
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=5, choices=CountStatus.choices, default=CountStatus.OPEN
    )
    task = models.OneToOneField(
        "tickets.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-due_on"]

    def __str__(self) -> str:
        return f"{self.location} {self.due_on}"

    def get_absolute_url(self) -> str:
        return reverse("inventory-count", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"stock count {self.location.code} {self.due_on}"


class StockCountLine(models.Model):
    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    counted = models.PositiveIntegerField(_("counted"), null=True, blank=True)
    # The book quantity at closing and the difference booked.
    expected = models.IntegerField(_("expected"), null=True, blank=True)
    difference = models.IntegerField(_("difference"), null=True, blank=True)

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        ordering = ["product__name"]
        constraints = [
            models.UniqueConstraint(fields=["count", "product"], name="count_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku}: {self.counted}"


# --- Machine updates --------------------------------------------------------------


class UpdateStatus(models.TextChoices):
    CANDIDATE = "candidate", _("candidate")
    RESEARCHED = "researched", _("researched")
    SCHEDULED = "scheduled", _("appointment made")
    APPROVED = "approved", _("approved by customer")
    TESTED = "tested", _("tested")
    INSTALLED = "installed", _("installed")
    VERIFIED = "verified", _("post-install test passed")
    DONE = "done", _("registered")
    NOT_APPLICABLE = "not_applicable", _("not applicable")
    FAILED = "failed", _("failed")


# The only allowed changes of an update's status; enforced in
# update_services.update_transition.
UPDATE_TRANSITIONS: dict[str, set[str]] = {
    UpdateStatus.CANDIDATE: {UpdateStatus.RESEARCHED, UpdateStatus.NOT_APPLICABLE},
    UpdateStatus.RESEARCHED: {UpdateStatus.SCHEDULED, UpdateStatus.NOT_APPLICABLE},
    UpdateStatus.SCHEDULED: {UpdateStatus.APPROVED, UpdateStatus.SCHEDULED, UpdateStatus.FAILED},
    UpdateStatus.APPROVED: {UpdateStatus.TESTED, UpdateStatus.FAILED},
    UpdateStatus.TESTED: {UpdateStatus.INSTALLED, UpdateStatus.FAILED},
    UpdateStatus.INSTALLED: {UpdateStatus.VERIFIED, UpdateStatus.FAILED},
    UpdateStatus.VERIFIED: {UpdateStatus.DONE},
    UpdateStatus.DONE: set(),
    UpdateStatus.NOT_APPLICABLE: set(),
    UpdateStatus.FAILED: {UpdateStatus.SCHEDULED},
}


class MachineUpdate(models.Model):
    """Updating software on one machine: candidate → research → appointment
    → customer approval → test → install → post-install test → registration,
    with the customer informed before and after. Each update is a change."""

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)
    item = models.ForeignKey(
        ConfigurationItem,
        verbose_name=_("machine"),
        on_delete=models.PROTECT,
        related_name="updates",
    )
    software = models.CharField(_("software"), max_length=100)
    current_version = models.CharField(_("current version"), max_length=50, blank=True)
    new_version = models.CharField(_("new version"), max_length=50)
    source = models.CharField(_("source"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=UpdateStatus.choices, default=UpdateStatus.CANDIDATE
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="machine_updates",
    )
    # Research
    impact = models.TextField(_("impact"), blank=True)
    applies = models.BooleanField(_("applies to us"), null=True)
    causes_downtime = models.BooleanField(_("causes downtime"), null=True)
    downtime_minutes = models.PositiveIntegerField(_("downtime (minutes)"), null=True, blank=True)
    customer_wants_it = models.BooleanField(_("customer wants it"), null=True)
    workaround = models.TextField(_("workaround"), blank=True)
    one_node_at_a_time = models.BooleanField(_("redundant: one node at a time"), default=False)
    # Appointment and approval
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    customer_informed_before_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approval_note = models.CharField(_("approval recorded as"), max_length=300, blank=True)
    # Test, install, verification, registration
    test_plan = models.TextField(_("test plan"), blank=True)
    test_result = models.TextField(_("test result"), blank=True)
    installed_at = models.DateTimeField(_("installed at"), null=True, blank=True)
    post_install_result = models.TextField(_("post-install test"), blank=True)
    how_done = models.TextField(_("how it was done"), blank=True)
    customer_informed_after_at = models.DateTimeField(null=True, blank=True)
    change = models.OneToOneField(
        "changes.Change", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("machine update")
        verbose_name_plural = _("machine updates")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "software", "new_version"], name="update_once_per_version"
            ),
        ]
        indexes = [
            # the update planning: open updates by appointment.
            models.Index(fields=["status", "appointment_at"], name="update_planning_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.software} {self.new_version}"

    def get_absolute_url(self) -> str:
        return reverse("inventory-update", args=[self.number])

    @property
    def reference(self) -> str:
        return self.number or ""


# --- Deliveries -----------------------------------------------------------------


class DeliveryOrigin(models.TextChoices):
    ORDER = "order", _("customer order")
    HANDOVER = "handover", _("sales hand-over")


class ServerKind(models.TextChoices):
    PHYSICAL = "physical", _("physical")
    VIRTUAL = "virtual", _("virtual")


class Hypervisor(models.TextChoices):
    NONE = "", _("none")
    HYPERV = "hyperv", _("Hyper-V")
    VMWARE = "vmware", _("VMware")


class DeliveryStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    IN_PROGRESS = "in_progress", _("in progress")
    CUSTOMER_TEST = "customer_test", _("customer testing")
    ACCEPTED = "accepted", _("accepted")
    DELIVERED = "delivered", _("delivered")
    CANCELLED = "cancelled", _("cancelled")


DELIVERY_TRANSITIONS: dict[str, set[str]] = {
    DeliveryStatus.REQUESTED: {DeliveryStatus.IN_PROGRESS, DeliveryStatus.CANCELLED},
    DeliveryStatus.IN_PROGRESS: {DeliveryStatus.CUSTOMER_TEST, DeliveryStatus.CANCELLED},
    DeliveryStatus.CUSTOMER_TEST: {DeliveryStatus.ACCEPTED, DeliveryStatus.IN_PROGRESS},
    DeliveryStatus.ACCEPTED: {DeliveryStatus.DELIVERED},
    DeliveryStatus.DELIVERED: set(),
    DeliveryStatus.CANCELLED: set(),
}


class DeliveryStepName(models.TextChoices):
    """The checklist in its order. Physical servers go ordered → delivered →
    unpacked → registered; virtual ones vps_created → registered."""

    ORDERED = "ordered", _("server ordered")
    DELIVERED_BY_SUPPLIER = "supplier_delivered", _("server delivered")
    UNPACKED = "unpacked", _("server unpacked")
    VPS_CREATED = "vps_created", _("VPS created")
    REGISTERED = "registered", _("registered in Network")
    OS_INSTALLED = "os_installed", _("OS installed")
    SOFTWARE_INSTALLED = "software_installed", _("software installed")
    CONFIGURED = "configured", _("software configured")
    TESTED = "tested", _("software tested")
    CUSTOMER_ACCOUNT = "customer_account", _("customer account created")
    CUSTOMER_TEST = "customer_test", _("customer tested and accepted")
    DOCUMENTED = "documented", _("environment documented")
    CONFIRMATION_SENT = "confirmation_sent", _("confirmation letter sent")
    HANDED_OVER = "handed_over", _("delivered")


class Delivery(models.Model):
    """A new customer environment, from an order or a sales hand-over to the
    delivered environment; the lead time runs from request to delivery."""

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="deliveries"
    )
    origin = models.CharField(_("origin"), max_length=10, choices=DeliveryOrigin.choices)
    order_reference = models.CharField(_("order reference"), max_length=100, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    server_kind = models.CharField(_("server"), max_length=10, choices=ServerKind.choices)
    hypervisor = models.CharField(
        _("hypervisor"), max_length=10, choices=Hypervisor.choices, blank=True
    )
    os_name = models.CharField(_("operating system"), max_length=100)
    webserver = models.CharField(_("webserver"), max_length=100, blank=True)
    database = models.CharField(_("database"), max_length=100, blank=True)
    firewall = models.CharField(_("firewall"), max_length=100, blank=True)
    contacts = models.TextField(_("contacts"))
    wanted_on = models.DateField(_("wanted on"))
    notes = models.TextField(_("notes"), blank=True)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    item = models.ForeignKey(
        ConfigurationItem,
        verbose_name=_("machine"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    status = models.CharField(
        _("status"), max_length=15, choices=DeliveryStatus.choices, default=DeliveryStatus.REQUESTED
    )
    customer_test_rounds = models.PositiveIntegerField(_("customer test rounds"), default=0)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(server_kind="physical", hypervisor="")
                | Q(server_kind="virtual", hypervisor__in=["hyperv", "vmware"]),
                name="delivery_hypervisor_matches_kind",
            ),
        ]
        indexes = [
            # the delivery board: open deliveries by wanted date.
            models.Index(fields=["status", "wanted_on"], name="delivery_board_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.customer}"

    def get_absolute_url(self) -> str:
        return reverse("inventory-delivery", args=[self.number])

    @property
    def reference(self) -> str:
        return self.number or ""

    @property
    def lead_time(self) -> timedelta | None:
        return self.delivered_at - self.requested_at if self.delivered_at else None


class DeliveryStep(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("step"), max_length=20, choices=DeliveryStepName.choices)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(_("done at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("delivery step")
        verbose_name_plural = _("delivery steps")
        ordering = ["done_at"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "step"], name="delivery_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery.number} {self.step}"


class DeliveryIssue(models.Model):
    """Something that went wrong during a delivery (a KPI: errors during delivery)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="issues")
    description = models.TextField(_("description"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("delivery issue")
        verbose_name_plural = _("delivery issues")
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return self.description[:60]
