from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from events.services import history_of
from servicedesk.lib.access import staff_required
from servicedesk.lib.forms import add_service_errors
from tickets.forms import TaskCloseForm, TaskForm
from tickets.models import TaskStatus
from tickets.selectors import task_box, task_get
from tickets.task_services import task_close, task_create, task_may_change, task_reopen


@staff_required
def task_list(request: HttpRequest) -> HttpResponse:
    """My tasks: the personal task box, open or closed, with a form for a new task."""
    status = request.GET.get("status", TaskStatus.OPEN)
    if status not in TaskStatus.values:
        status = TaskStatus.OPEN
    form = TaskForm(initial={"assignee": request.user.get_username()})
    if request.method == "POST":
        if not request.user.has_perm("tickets.add_task"):
            raise PermissionDenied
        form = TaskForm(request.POST)
        if form.is_valid():
            try:
                task = task_create(actor=request.user, now=timezone.now(), **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("task-detail", task.public_id)
    order = "-closed_at" if status == TaskStatus.CLOSED else "due_date"
    tasks = task_box(user=request.user, status=status).order_by(order, "created_at")
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "form": form, "today": timezone.localdate()}
    return render(request, "tickets/task_list.html", context)


@staff_required
def task_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    task = task_get(user=request.user, public_id=public_id)
    subtask_form = TaskForm(initial={"assignee": request.user.get_username()})
    if request.method == "POST":
        if not request.user.has_perm("tickets.add_task"):
            raise PermissionDenied
        subtask_form = TaskForm(request.POST)
        if subtask_form.is_valid():
            try:
                task_create(
                    actor=request.user, now=timezone.now(), parent=task, **subtask_form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(subtask_form, error)
            else:
                return redirect("task-detail", task.public_id)
    context = {
        "task": task,
        "subtasks": task.subtasks.select_related("assignee").order_by("status", "due_date"),
        "history": history_of(task).order_by("-created_at"),
        "subtask_form": subtask_form,
        "close_form": TaskCloseForm(),
        "may_change": task_may_change(task=task, user=request.user),
    }
    return render(request, "tickets/task_detail.html", context)


@require_POST
@staff_required
def task_close_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """Close a task; from the task box (HTMX) the row is swapped in place."""
    task = task_get(user=request.user, public_id=public_id)
    form = TaskCloseForm(request.POST)
    error_text = ""
    if form.is_valid():
        try:
            task = task_close(
                task=task,
                actor=request.user,
                now=timezone.now(),
                remark=form.cleaned_data["remark"],
            )
        except ValidationError as error:
            error_text = " ".join(error.messages)
    else:
        error_text = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if request.headers.get("HX-Request"):
        task = task_get(user=request.user, public_id=public_id)
        return render(
            request,
            "tickets/_task_row.html",
            {"task": task, "error": error_text, "today": timezone.localdate()},
        )
    if error_text:
        messages.error(request, error_text)
    return redirect("task-detail", task.public_id)


@require_POST
@staff_required
def task_reopen_view(request: HttpRequest, public_id: str) -> HttpResponse:
    task = task_get(user=request.user, public_id=public_id)
    try:
        task_reopen(task=task, actor=request.user, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("task-detail", task.public_id)
