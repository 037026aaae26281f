"""Staff pages of Network stock: the overview per location, products with
their ledger, purchase orders with receiving, and stock counts."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from events.services import history_of
from inventory.models import (
    ConfigurationItem,
    CountStatus,
    ItemStatus,
    Location,
    OrderStatus,
    PurchaseOrderLine,
    StockCount,
    StockMovement,
)
from inventory.stock_forms import (
    BaseOrderLineFormSet,
    CountForm,
    CountRecordForm,
    IssueForm,
    OrderForm,
    OrderLineFormSet,
    ProductForm,
    ReceiveForm,
    TransferForm,
)
from inventory.stock_selectors import (
    count_get,
    count_lines,
    counts_visible_to,
    open_orders,
    order_get,
    order_line_get,
    order_lines,
    orders_visible_to,
    product_get,
    product_ledger,
    product_levels,
    products_below_reorder_level,
    products_visible_to,
    stock_overview,
)
from inventory.stock_services import (
    PRODUCT_FIELDS,
    may_manage_counts,
    may_move,
    may_order,
    may_receive,
    may_work_count,
    product_save,
    purchase_order_create,
    stock_count_close,
    stock_count_create,
    stock_count_record,
    stock_issue,
    stock_receive,
    stock_transfer,
)
from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors

VIEW_STOCK = "inventory.view_stocklevel"
VIEW_PRODUCT = "inventory.view_product"
VIEW_ORDER = "inventory.view_purchaseorder"
VIEW_COUNT = "inventory.view_stockcount"
PAGE_SIZE = 50


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Overview ---------------------------------------------------------------------


@permission_required(VIEW_STOCK)
def stock_overview_page(request: HttpRequest) -> HttpResponse:
    """The stock per location with its value, what is at or below its reorder
    level, the orders still to come and the open counts."""
    locations = list(Location.objects.order_by("name"))
    location = next((p for p in locations if p.code == request.GET.get("location")), None)
    context = {
        "locations": locations,
        "location": location,
        "places": stock_overview(request.user, location),
        "below": products_below_reorder_level(request.user),
        "orders": open_orders(request.user)[:10],
        "counts": counts_visible_to(request.user).filter(status=CountStatus.OPEN),
    }
    return render(request, "inventory/stock/overview.html", context)


# --- Products ---------------------------------------------------------------------


@permission_required(VIEW_PRODUCT)
def product_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    products = products_visible_to(request.user).order_by("name", "sku")
    if query:
        products = products.filter(Q(sku__icontains=query) | Q(name__icontains=query))
    if request.GET.get("inactive") != "1":
        products = products.filter(active=True)
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "query": query, "filters": _query_without_page(request)}
    return render(request, "inventory/stock/product_list.html", context)


def _product_page(
    request: HttpRequest,
    sku: str,
    *,
    issue_form: IssueForm | None = None,
    transfer_form: TransferForm | None = None,
    status: int = 200,
) -> HttpResponse:
    product = product_get(user=request.user, sku=sku)
    movable = may_move(request.user)
    ledger = Paginator(product_ledger(product), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "product": product,
        "levels": product_levels(product),
        "ledger": ledger,
        "machines": ConfigurationItem.objects.filter(product=product, status=ItemStatus.IN_STOCK)
        .select_related("location", "customer")
        .order_by("serial_number")[:100],
        "open_lines": PurchaseOrderLine.objects.filter(
            product=product, order__status__in=[OrderStatus.ORDERED, OrderStatus.PARTIAL]
        )
        .select_related("order__destination")
        .order_by("order__expected_on"),
        "issue_form": issue_form or (IssueForm(auto_id="issue-%s") if movable else None),
        "transfer_form": transfer_form
        or (TransferForm(auto_id="transfer-%s") if movable and not product.becomes_item else None),
        "history": history_of(product).order_by("-created_at")[:30],
    }
    return render(request, "inventory/stock/product_detail.html", context, status=status)


@permission_required(VIEW_PRODUCT)
def product_detail(request: HttpRequest, sku: str) -> HttpResponse:
    return _product_page(request, sku)


def _product_form_page(
    request: HttpRequest, form: ProductForm, product: Any, status: int = 200
) -> HttpResponse:
    context = {"form": form, "product": product}
    return render(request, "inventory/stock/product_form.html", context, status=status)


def _product_save(request: HttpRequest, form: ProductForm, product: Any) -> Any:
    if not form.is_valid():
        return None
    fields = {name: form.cleaned_data[name] for name in PRODUCT_FIELDS}
    if product is not None:
        fields.pop("sku")
    try:
        return product_save(actor=request.user, now=timezone.now(), product=product, **fields)
    except ValidationError as error:
        add_service_errors(form, error)
        return None


@permission_required("inventory.add_product")
def product_new(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST":
        product = _product_save(request, form, None)
        if product is not None:
            messages.success(request, _("Product %(sku)s created.") % {"sku": product.sku})
            return redirect("inventory-product", product.sku)
        return _product_form_page(request, form, None, status=400)
    return _product_form_page(request, form, None)


@permission_required("inventory.change_product")
def product_edit(request: HttpRequest, sku: str) -> HttpResponse:
    product = product_get(user=request.user, sku=sku)
    form = ProductForm(request.POST or None, initial=ProductForm.initial_of(product))
    form.fields["sku"].disabled = True
    if request.method == "POST":
        saved = _product_save(request, form, product)
        if saved is not None:
            messages.success(request, _("Product saved."))
            return redirect("inventory-product", saved.sku)
        return _product_form_page(request, form, product, status=400)
    return _product_form_page(request, form, product)


@require_POST
@permission_required("inventory.add_receipt")
def product_issue(request: HttpRequest, sku: str) -> HttpResponse:
    product = product_get(user=request.user, sku=sku)
    form = IssueForm(request.POST, auto_id="issue-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            stock_issue(
                product=product,
                location=data["location"],
                quantity=data["quantity"],
                customer=data["customer"],
                item=data["item"],
                note=data["note"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Issued %(quantity)d of %(sku)s from %(location)s.")
                % {
                    "quantity": data["quantity"],
                    "sku": product.sku,
                    "location": data["location"].code,
                },
            )
            return redirect("inventory-product", product.sku)
    return _product_page(request, sku, issue_form=form, status=400)


@require_POST
@permission_required("inventory.add_receipt")
def product_transfer(request: HttpRequest, sku: str) -> HttpResponse:
    product = product_get(user=request.user, sku=sku)
    form = TransferForm(request.POST, auto_id="transfer-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            stock_transfer(
                product=product,
                source=data["source"],
                destination=data["destination"],
                quantity=data["quantity"],
                note=data["note"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Moved %(quantity)d of %(sku)s from %(source)s to %(destination)s.")
                % {
                    "quantity": data["quantity"],
                    "sku": product.sku,
                    "source": data["source"].code,
                    "destination": data["destination"].code,
                },
            )
            return redirect("inventory-product", product.sku)
    return _product_page(request, sku, transfer_form=form, status=400)


# --- Purchase orders --------------------------------------------------------------


@permission_required(VIEW_ORDER)
def order_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    orders = orders_visible_to(request.user)
    if status == "open":
        orders = orders.filter(status__in=[OrderStatus.ORDERED, OrderStatus.PARTIAL]).order_by(
            "expected_on", "id"
        )
    else:
        if status in OrderStatus.values:
            orders = orders.filter(status=status)
        orders = orders.order_by("-ordered_at", "-id")
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": OrderStatus.choices,
        "filters": _query_without_page(request),
        "may_order": may_order(request.user),
    }
    return render(request, "inventory/stock/order_list.html", context)


@permission_required("inventory.add_purchaseorder")
def order_new(request: HttpRequest) -> HttpResponse:
    if not may_order(request.user):
        raise PermissionDenied
    form = OrderForm(request.POST or None)
    lines = cast(BaseOrderLineFormSet, OrderLineFormSet(request.POST or None, prefix="lines"))
    if request.method == "POST":
        if form.is_valid() and lines.is_valid():
            data = form.cleaned_data
            try:
                order = purchase_order_create(
                    supplier=data["supplier"],
                    destination=data["destination"],
                    customer=data["customer"],
                    expected_on=data["expected_on"],
                    notes=data["notes"],
                    lines=lines.lines(),
                    actor=request.user,  # type: ignore[arg-type]
                    now=timezone.now(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Purchase order %(number)s placed.") % {"number": order.number}
                )
                return redirect(order)
        status = 400
    else:
        status = 200
    context = {"form": form, "lines": lines}
    return render(request, "inventory/stock/order_form.html", context, status=status)


@permission_required(VIEW_ORDER)
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get(user=request.user, number=number)
    machines = (
        StockMovement.objects.filter(order_line__order=order, item__isnull=False)
        .select_related("item", "location")
        .order_by("created_at", "id")
    )
    context = {
        "order": order,
        "lines": order_lines(order),
        "machines": machines,
        "may_receive": may_receive(request.user)
        and order.status in (OrderStatus.ORDERED, OrderStatus.PARTIAL),
        "history": history_of(order).order_by("-created_at")[:50],
    }
    return render(request, "inventory/stock/order_detail.html", context)


@permission_required("inventory.add_receipt")
def order_receive(request: HttpRequest, number: str, line: int) -> HttpResponse:
    """Register what one puts away of one order line: part of it or all."""
    order_line = order_line_get(user=request.user, number=number, pk=line)
    order = order_line.order
    initial = {
        "quantity": order_line.outstanding or None,
        "location": order.destination.code,
        "customer": order.customer.number if order.customer else "",
    }
    form = ReceiveForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                receipt = stock_receive(
                    line=order_line,
                    quantity=data["quantity"],
                    location=data["location"],
                    customer=data["customer"],
                    serial_numbers=data["serial_numbers"],
                    actor=request.user,  # type: ignore[arg-type]
                    now=timezone.now(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Received %(quantity)d of %(sku)s at %(location)s.")
                    % {
                        "quantity": receipt.quantity,
                        "sku": order_line.product.sku,
                        "location": receipt.location.name,
                    },
                )
                return redirect(order)
        status = 400
    context = {"order": order, "line": order_line, "form": form}
    return render(request, "inventory/stock/receive.html", context, status=status)


# --- Counts -----------------------------------------------------------------------


def _count_list_page(
    request: HttpRequest, form: CountForm | None, status: int = 200
) -> HttpResponse:
    counts = counts_visible_to(request.user).order_by("status", "-due_on", "-id")
    page = Paginator(counts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "form": form, "filters": _query_without_page(request)}
    return render(request, "inventory/stock/count_list.html", context, status=status)


@permission_required(VIEW_COUNT)
def count_list(request: HttpRequest) -> HttpResponse:
    form = (
        CountForm(initial={"due_on": timezone.localdate()})
        if may_manage_counts(request.user)
        else None
    )
    return _count_list_page(request, form)


@require_POST
@permission_required("inventory.add_stockcount")
def count_new(request: HttpRequest) -> HttpResponse:
    form = CountForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            count = stock_count_create(
                location=data["location"],
                controller=data["controller"],
                due_on=data["due_on"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Count of %(location)s assigned to %(controller)s.")
                % {"location": count.location.name, "controller": count.controller.display_name},
            )
            return redirect(count)
    return _count_list_page(request, form, status=400)


def _count_page(
    request: HttpRequest, count: StockCount, form: CountRecordForm | None = None, status: int = 200
) -> HttpResponse:
    lines = count_lines(count)
    workable = count.status == CountStatus.OPEN and may_work_count(count=count, user=request.user)
    if form is None and workable:
        form = CountRecordForm(lines=lines)
    context = {
        "count": count,
        "lines": lines,
        "form": form,
        "workable": workable,
        "history": history_of(count).order_by("-created_at")[:50],
    }
    return render(request, "inventory/stock/count_detail.html", context, status=status)


@permission_required(VIEW_COUNT)
def count_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _count_page(request, count_get(user=request.user, pk=pk))


@require_POST
@permission_required(VIEW_COUNT)
def count_record(request: HttpRequest, pk: int) -> HttpResponse:
    count = count_get(user=request.user, pk=pk)
    if not may_work_count(count=count, user=request.user):
        raise PermissionDenied
    form = CountRecordForm(request.POST, lines=count_lines(count))
    if form.is_valid():
        try:
            stock_count_record(
                count=count, counted=form.counted(), actor=request.user, now=timezone.now()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Counts saved."))
            if request.POST.get("close"):
                return _close(request, count)
            return redirect(count)
    return _count_page(request, count, form, status=400)


def _close(request: HttpRequest, count: StockCount) -> HttpResponse:
    try:
        stock_count_close(count=count, actor=request.user, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(count)
    messages.success(request, _("Count closed; the differences are booked."))
    return redirect(count)


@require_POST
@permission_required(VIEW_COUNT)
def count_close(request: HttpRequest, pk: int) -> HttpResponse:
    count = get_object_or_404(counts_visible_to(request.user), pk=pk)
    if not may_work_count(count=count, user=request.user):
        raise PermissionDenied
    return _close(request, count)
