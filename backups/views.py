"""Staff pages of the backup checks: today's checks, a check with one-click
handling per line (HTMX swaps the line's row), the problems board and a
problem's page, the jobs with their last run, a job's page and its
configuration form, and the restore tests that are due."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import staff_users
from backups.forms import (
    AnalyseForm,
    IncidentForm,
    JobFilterForm,
    JobForm,
    NoIncidentForm,
    RestoreTestForm,
    SolveForm,
)
from backups.models import (
    BackupCheck,
    BackupJob,
    BackupProblem,
    CheckLine,
    Handling,
)
from backups.selectors import (
    check_get,
    check_lines,
    checks_visible_to,
    job_get,
    jobs_visible_to,
    problem_get,
    problems_board,
    restore_tests_due,
    restore_tests_recent,
    with_last_status_labels,
)
from backups.services import (
    JOB_FIELDS,
    backup_check_complete,
    backup_job_save,
    backup_problem_analyse,
    backup_problem_solve,
    check_assignee,
    check_line_handle,
    check_may_handle,
    check_open_lines,
    line_default_severity,
    problem_may_change,
    restore_test_record,
)
from events.services import history_of
from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors

VIEW_CHECK = "backups.view_backupcheck"
VIEW_PROBLEM = "backups.view_backupproblem"
VIEW_JOB = "backups.view_backupjob"
VIEW_RESTORE = "backups.view_restoretest"
RECENT_DAYS = 14
JOB_RUNS = 14
# The HTMX event a handled line sends, so the check's status box refreshes.
LINE_HANDLED = "backup-line-handled"


# --- Checks ---------------------------------------------------------------------


@permission_required(VIEW_CHECK)
def check_today(request: HttpRequest) -> HttpResponse:
    """Today's check per responsibility group, and those of the days before."""
    now = timezone.now()
    today = timezone.localdate(now)
    checks = checks_visible_to(request.user)
    context = {
        "today": today,
        "now": now,
        "checks": checks.filter(day=today).order_by("group__name"),
        "recent": checks.filter(
            day__lt=today, day__gte=today - timedelta(days=RECENT_DAYS)
        ).order_by("-day", "group__name"),
        "check_hour": settings.BACKUP_CHECK_HOUR,
    }
    return render(request, "backups/check_today.html", context)


class LineForms:
    """The two handling forms of one line, with ids of their own so every
    label stays tied to its field when many lines are on one page."""

    def __init__(
        self,
        line: CheckLine,
        *,
        staff: list[User],
        assignee: User | None,
        data: Any = None,
        handling: str = "",
    ) -> None:
        self.line = line
        # Bound unless the incident form is chosen: a POST that chose neither
        # shows its error on this form, which needs data to carry errors.
        self.no_incident = NoIncidentForm(
            data if handling != Handling.INCIDENT else None,
            auto_id=f"line{line.pk}-no-%s",
        )
        self.incident = IncidentForm(
            data if handling == Handling.INCIDENT else None,
            staff=staff,
            auto_id=f"line{line.pk}-inc-%s",
            initial={
                "severity": line_default_severity(line),
                "assignee": assignee.username if assignee else "",
            },
        )

    @property
    def error_text(self) -> str:
        """Every error of both forms, for a row whose forms are gone (a line
        handled meanwhile by a colleague)."""
        return " ".join(
            str(message)
            for form in (self.no_incident, self.incident)
            for messages_ in form.errors.values()
            for message in messages_
        )


def _check_assignee(check: BackupCheck) -> User | None:
    try:
        return check_assignee(group=check.group, day=check.day)
    except ValidationError:
        return None


def _line_context(
    request: HttpRequest,
    check: BackupCheck,
    lines: list[CheckLine],
    bound: dict[int, LineForms] | None = None,
) -> dict[str, Any]:
    """Each line with its handling forms: the bound ones of a failed POST, or
    fresh ones for a line that needs handling when the user may handle it.
    The staff list and the default assignee are read once for all lines."""
    bound = bound or {}
    may_handle = check_may_handle(check=check, user=request.user)
    staff: list[User] = []
    assignee = None
    if may_handle and any(line.needs_handling for line in lines):
        staff = list(staff_users())
        assignee = _check_assignee(check)
    rows = []
    for line in lines:
        forms_ = bound.get(line.pk)
        if forms_ is None and may_handle and line.needs_handling:
            forms_ = LineForms(line, staff=staff, assignee=assignee)
        rows.append((line, forms_))
    return {"check": check, "rows": rows, "may_handle": may_handle}


def _check_page(
    request: HttpRequest,
    check: BackupCheck,
    status: int = 200,
    bound: dict[int, LineForms] | None = None,
) -> HttpResponse:
    context = _line_context(request, check, list(check_lines(check)), bound)
    context["history"] = history_of(check).order_by("-created_at")[:50]
    context.update(_status_context(check))
    return render(request, "backups/check_detail.html", context, status=status)


def _status_context(check: BackupCheck) -> dict[str, Any]:
    return {"check": check, "open_lines": check_open_lines(check).count()}


@permission_required(VIEW_CHECK)
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check = check_get(user=request.user, pk=pk)
    if request.headers.get("HX-Request") and request.GET.get("part") == "status":
        context = {
            **_status_context(check),
            "may_handle": check_may_handle(check=check, user=request.user),
        }
        return render(request, "backups/_check_status.html", context)
    return _check_page(request, check)


def _line_get(user: Any, pk: int) -> CheckLine:
    line = (
        CheckLine.objects.filter(pk=pk, backup_check__in=checks_visible_to(user))
        .select_related("backup_check__group", "backup_check__task")
        .first()
    )
    if line is None:
        raise Http404("No such check line")
    return line


@require_POST
@permission_required(VIEW_CHECK)
def line_handle(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a line as no incident (with a reason) or as an incident (with
    severity and assignee). From HTMX the answer is the line's row only, plus
    an event that refreshes the status box; without JS, the check page."""
    line = _line_get(request.user, pk)
    check = line.backup_check
    if not check_may_handle(check=check, user=request.user):
        raise PermissionDenied
    handling = request.POST.get("handling", "")
    staff = list(staff_users())
    forms_ = LineForms(
        line, staff=staff, assignee=_check_assignee(check), data=request.POST, handling=handling
    )
    choices: dict[str, forms.Form] = {
        Handling.NO_INCIDENT: forms_.no_incident,
        Handling.INCIDENT: forms_.incident,
    }
    form = choices.get(handling)
    done = False
    if form is None:
        forms_.no_incident.add_error(None, _("Choose incident or no incident."))
    elif form.is_valid():
        data = form.cleaned_data
        try:
            check_line_handle(
                line=line,
                handling=handling,
                actor=request.user,  # type: ignore[arg-type]
                now=timezone.now(),
                reason=data.get("reason", ""),
                severity=data.get("severity", ""),
                assignee=data.get("assignee"),
                description=data.get("description", ""),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            done = True
    htmx = bool(request.headers.get("HX-Request"))
    if done and not htmx:
        messages.success(request, _("Line handled."))
        return redirect("backup-check", check.pk)
    if not htmx:
        return _check_page(request, check, status=400, bound={line.pk: forms_})
    line = check_lines(check).get(pk=line.pk)
    context = _line_context(request, check, [line], None if done else {line.pk: forms_})
    response = render(request, "backups/_line_row.html", {**context, "row": context["rows"][0]})
    if done:
        response["HX-Trigger"] = LINE_HANDLED
    return response


@require_POST
@permission_required(VIEW_CHECK)
def check_complete(request: HttpRequest, pk: int) -> HttpResponse:
    check = check_get(user=request.user, pk=pk)
    if not check_may_handle(check=check, user=request.user):
        raise PermissionDenied
    try:
        backup_check_complete(check=check, actor=request.user, now=timezone.now())  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Check done."))
    return redirect("backup-check", check.pk)


# --- Problems -------------------------------------------------------------------


@permission_required(VIEW_PROBLEM)
def problem_board(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    board = problems_board(request.user, today=timezone.localdate(now))
    columns = [
        ("open", _("Open"), board["open"]),
        ("in_progress", _("In progress"), board["in_progress"]),
        ("solved", _("Solved (last two weeks)"), board["solved"]),
    ]
    return render(request, "backups/problem_board.html", {"columns": columns, "now": now})


def _problem_page(
    request: HttpRequest, problem: BackupProblem, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    context = {
        "problem": problem,
        "now": timezone.now(),
        "lines": problem.lines.select_related("backup_check__group").order_by("-expected_start"),
        "history": history_of(problem).order_by("-created_at"),
        "may_change": problem_may_change(problem=problem, user=request.user),
        "analyse_form": bound.get("analyse_form")
        or AnalyseForm(initial={"cause": problem.cause}, auto_id="analyse_%s"),
        "solve_form": bound.get("solve_form") or SolveForm(auto_id="solve_%s"),
    }
    return render(request, "backups/problem_detail.html", context, status=status)


@permission_required(VIEW_PROBLEM)
def problem_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _problem_page(request, problem_get(user=request.user, number=number))


@require_POST
@permission_required(VIEW_PROBLEM)
def problem_analyse(request: HttpRequest, number: str) -> HttpResponse:
    problem = problem_get(user=request.user, number=number)
    if not problem_may_change(problem=problem, user=request.user):
        raise PermissionDenied
    form = AnalyseForm(request.POST, auto_id="analyse_%s")
    if form.is_valid():
        try:
            backup_problem_analyse(
                problem=problem,
                cause=form.cleaned_data["cause"],
                actor=request.user,  # type: ignore[arg-type]
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Analysis recorded."))
            return redirect("backup-problem", problem.number)
    return _problem_page(request, problem, status=400, analyse_form=form)


@require_POST
@permission_required(VIEW_PROBLEM)
def problem_solve(request: HttpRequest, number: str) -> HttpResponse:
    problem = problem_get(user=request.user, number=number)
    if not problem_may_change(problem=problem, user=request.user):
        raise PermissionDenied
    form = SolveForm(request.POST, auto_id="solve_%s")
    if form.is_valid():
        try:
            backup_problem_solve(
                problem=problem,
                solution=form.cleaned_data["solution"],
                cause=form.cleaned_data["cause"],
                actor=request.user,  # type: ignore[arg-type]
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Problem solved."))
            return redirect("backup-problem", problem.number)
    return _problem_page(request, problem, status=400, solve_form=form)


# --- Jobs -----------------------------------------------------------------------


@permission_required(VIEW_JOB)
def job_list(request: HttpRequest) -> HttpResponse:
    """Jobs per customer and machine with their last run (annotated, so the
    page's query count does not grow with the number of jobs)."""
    form = JobFilterForm(request.GET if request.GET else {"active": "yes"})
    jobs = jobs_visible_to(request.user).order_by("customer__number", "hostname", "reference")
    if form.is_valid():
        data = form.cleaned_data
        if data["customer"]:
            jobs = jobs.filter(customer__number=data["customer"].strip())
        if data["group"]:
            jobs = jobs.filter(group=data["group"])
        if data["kind"]:
            jobs = jobs.filter(kind=data["kind"])
        if data["active"]:
            jobs = jobs.filter(active=data["active"] == "yes")
    page = Paginator(jobs, 50).get_page(request.GET.get("page"))
    page.object_list = with_last_status_labels(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "filters": query.urlencode()}
    return render(request, "backups/job_list.html", context)


def _configuration_history(job: BackupJob) -> list[dict[str, Any]]:
    labels = {
        name: getattr(BackupJob._meta.get_field(name), "verbose_name", name) for name in JOB_FIELDS
    }
    entries = []
    for event in history_of(job).filter(kind__startswith="backup_job.").order_by("-created_at"):
        changes = (event.data or {}).get("changes") or {}
        entries.append(
            {
                "event": event,
                "changes": [
                    (labels.get(name, name), values[0], values[1])
                    for name, values in changes.items()
                ],
            }
        )
    return entries


@permission_required(VIEW_JOB)
def job_detail(request: HttpRequest, reference: str) -> HttpResponse:
    job = job_get(user=request.user, reference=reference)
    context = {
        "job": job,
        "today": timezone.localdate(),
        "runs": job.runs.order_by("-started_at")[:JOB_RUNS],
        "restore_tests": job.restore_tests.select_related("performed_by").order_by("-performed_on")[
            :20
        ],
        "problems": job.problems.select_related("assignee").order_by("-created_at")[:20],
        "history": _configuration_history(job),
    }
    return render(request, "backups/job_detail.html", context)


def _job_form_page(
    request: HttpRequest, form: JobForm, job: BackupJob | None, status: int = 200
) -> HttpResponse:
    return render(request, "backups/job_form.html", {"form": form, "job": job}, status=status)


def _job_save(request: HttpRequest, form: JobForm, job: BackupJob | None) -> BackupJob | None:
    if not form.is_valid():
        return None
    # Only what this form edits: a field it lacks (the Network item) keeps its value.
    fields = {name: form.cleaned_data[name] for name in JOB_FIELDS if name in form.cleaned_data}
    try:
        return backup_job_save(actor=request.user, now=timezone.now(), job=job, **fields)  # type: ignore[arg-type]
    except ValidationError as error:
        add_service_errors(form, error)
        return None


@permission_required("backups.add_backupjob")
def job_new(request: HttpRequest) -> HttpResponse:
    form = JobForm(request.POST or None)
    if request.method == "POST":
        job = _job_save(request, form, None)
        if job is not None:
            messages.success(request, _("Backup job %(job)s created.") % {"job": job.reference})
            return redirect("backup-job", job.reference)
        return _job_form_page(request, form, None, status=400)
    return _job_form_page(request, form, None)


@permission_required("backups.change_backupjob")
def job_edit(request: HttpRequest, reference: str) -> HttpResponse:
    job = job_get(user=request.user, reference=reference)
    form = JobForm(request.POST or None, initial=JobForm.initial_of(job))
    if request.method == "POST":
        saved = _job_save(request, form, job)
        if saved is not None:
            messages.success(request, _("Configuration saved."))
            return redirect("backup-job", saved.reference)
        return _job_form_page(request, form, job, status=400)
    return _job_form_page(request, form, job)


# --- Restore tests --------------------------------------------------------------


def _restore_form(request: HttpRequest, today: date, data: Any = None) -> RestoreTestForm:
    jobs = jobs_visible_to(request.user).filter(active=True).order_by("reference")
    initial = {"performed_on": today, "job": request.GET.get("job", "")}
    return RestoreTestForm(data, jobs=jobs, initial=initial)


@permission_required(VIEW_RESTORE)
def restore_tests(request: HttpRequest) -> HttpResponse:
    """Jobs whose restore test is due within 30 days or overdue, the latest
    tests, and (for who may) a form to record one."""
    now = timezone.now()
    today = timezone.localdate(now)
    form = _restore_form(request, today)
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("backups.add_restoretest"):
            raise PermissionDenied
        form = _restore_form(request, today, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                restore_test_record(
                    job=data["job"],
                    performed_on=data["performed_on"],
                    result=data["result"],
                    notes=data["notes"],
                    actor=request.user,  # type: ignore[arg-type]
                    now=now,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Restore test of %(job)s recorded.") % {"job": data["job"].reference},
                )
                return redirect("backup-restore-tests")
        status = 400
    context = {
        "today": today,
        "due": restore_tests_due(request.user, today=today),
        "recent": restore_tests_recent(request.user)[:20],
        "form": form,
    }
    return render(request, "backups/restore_tests.html", context, status=status)
