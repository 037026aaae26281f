"""Pages of the knowledge base, problem records and call cards."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors
from tickets.channel_services import call_card_create, call_card_to_ticket
from tickets.forms import (
    ArticleForm,
    CallCardForm,
    CallCardTicketForm,
    LinkProblemForm,
    LinkTicketForm,
    ProblemForm,
    ProblemStatusForm,
)
from tickets.kb_services import (
    article_create,
    article_link,
    article_update,
    problem_create,
    problem_link_incident,
    problem_transition,
)
from tickets.models import Article, CallCard, Problem
from tickets.selectors import article_search, problems_list, ticket_get

VIEW = "tickets.view_ticket"
CHANGE = "tickets.change_ticket"


def _article(public_id: str) -> Article:
    # The id also comes from a form field, where it may be anything.
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    article = Article.objects.filter(public_id=key).first()
    if article is None:
        raise Http404
    return article


@permission_required(VIEW)
def article_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    page = Paginator(article_search(query), 25).get_page(request.GET.get("page"))
    return render(request, "tickets/article_list.html", {"page": page, "query": query})


@permission_required(VIEW)
def article_search_partial(request: HttpRequest) -> HttpResponse:
    """HTMX: articles for the search box on a ticket page, with link buttons."""
    ticket = ticket_get(user=request.user, number=request.GET.get("ticket", ""))
    articles = article_search(request.GET.get("q", ""))[:8]
    return render(
        request, "tickets/_article_results.html", {"articles": articles, "ticket": ticket}
    )


@permission_required(CHANGE)
def article_new(request: HttpRequest) -> HttpResponse:
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = article_create(data=form.cleaned_data, actor=request.user, now=timezone.now())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("article-detail", article.public_id)
    return render(request, "tickets/article_form.html", {"form": form})


@permission_required(VIEW)
def article_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    article = _article(public_id)
    initial = {field: getattr(article, field) for field in ArticleForm.base_fields}
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.has_perm(CHANGE):
            raise Http404
        if form.is_valid():
            try:
                article_update(
                    article=article, data=form.cleaned_data, actor=request.user, now=timezone.now()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Article saved."))
                return redirect("article-detail", article.public_id)
    tickets = article.tickets.select_related("customer").order_by("-created_at")[:50]
    return render(
        request,
        "tickets/article_detail.html",
        {"article": article, "form": form, "tickets": tickets},
    )


@require_POST
@permission_required(CHANGE)
def ticket_article_link(request: HttpRequest, number: str) -> HttpResponse:
    ticket = ticket_get(user=request.user, number=number)
    article = _article(request.POST.get("article", ""))
    if article_link(article=article, ticket=ticket, actor=request.user, now=timezone.now()):
        messages.success(request, _("Article linked."))
    return redirect("ticket-detail", ticket.number)


@require_POST
@permission_required(CHANGE)
def ticket_problem_link(request: HttpRequest, number: str) -> HttpResponse:
    ticket = ticket_get(user=request.user, number=number)
    form = LinkProblemForm(request.POST)
    problem = None
    if form.is_valid():
        problem = Problem.objects.filter(
            number=form.cleaned_data["problem"].strip().upper()
        ).first()
    if problem is None:
        messages.error(request, _("No problem has this number."))
        return redirect("ticket-detail", ticket.number)
    try:
        problem_link_incident(
            problem=problem, ticket=ticket, actor=request.user, now=timezone.now()
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Linked to %(number)s.") % {"number": problem.number})
    return redirect("ticket-detail", ticket.number)


@permission_required(VIEW)
def problem_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(problems_list(), 25).get_page(request.GET.get("page"))
    return render(request, "tickets/problem_list.html", {"page": page})


@permission_required(CHANGE)
def problem_new(request: HttpRequest) -> HttpResponse:
    """A new problem record, optionally started from a ticket (?ticket=T-…)."""
    origin = request.GET.get("ticket") or request.POST.get("ticket") or ""
    ticket = ticket_get(user=request.user, number=origin) if origin else None
    form = ProblemForm(request.POST or None, initial={"title": ticket.subject if ticket else ""})
    if request.method == "POST" and form.is_valid():
        try:
            problem = problem_create(
                **form.cleaned_data,
                actor=request.user,
                now=timezone.now(),
                incidents=[ticket] if ticket else [],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("problem-detail", problem.number)
    return render(request, "tickets/problem_form.html", {"form": form, "ticket": ticket})


def _problem(number: str) -> Problem:
    problem = Problem.objects.filter(number=number).first()
    if problem is None:
        raise Http404
    return problem


@permission_required(VIEW)
def problem_detail(request: HttpRequest, number: str) -> HttpResponse:
    problem = _problem(number)
    link_form, status_form = (
        LinkTicketForm(),
        ProblemStatusForm(
            initial={"workaround": problem.workaround, "root_cause": problem.root_cause}
        ),
    )
    if request.method == "POST":
        if not request.user.has_perm(CHANGE):
            raise Http404
        now = timezone.now()
        try:
            if "ticket" in request.POST:
                link_form = LinkTicketForm(request.POST)
                if link_form.is_valid():
                    ticket = ticket_get(user=request.user, number=link_form.cleaned_data["ticket"])
                    problem_link_incident(
                        problem=problem, ticket=ticket, actor=request.user, now=now
                    )
                    return redirect("problem-detail", problem.number)
            else:
                status_form = ProblemStatusForm(request.POST)
                if status_form.is_valid():
                    problem_transition(
                        problem=problem, actor=request.user, now=now, **status_form.cleaned_data
                    )
                    return redirect("problem-detail", problem.number)
        except ValidationError as error:
            add_service_errors(link_form if "ticket" in request.POST else status_form, error)
        except Http404:
            link_form.add_error("ticket", _("No ticket has this number."))
    context = {
        "problem": problem,
        "incidents": problem.incidents.select_related("customer").order_by("-created_at"),
        "link_form": link_form,
        "status_form": status_form,
    }
    return render(
        request,
        "tickets/problem_detail.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@permission_required(VIEW)
def call_card_list(request: HttpRequest) -> HttpResponse:
    """Calls not yet turned into tickets, and a form to note a new call."""
    form = CallCardForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(CHANGE):
            raise Http404
        if form.is_valid():
            now = timezone.now()
            data = form.cleaned_data
            try:
                call_card_create(
                    phone=data["phone"],
                    summary=data["summary"],
                    caller=data["caller"],
                    customer_number=data["customer"],
                    received_at=now,
                    actor=request.user,
                    now=now,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Call noted."))
                return redirect("call-cards")
    cards = (
        CallCard.objects.filter(ticket__isnull=True)
        .select_related("customer")
        .order_by("-received_at")
    )
    page = Paginator(cards, 25).get_page(request.GET.get("page"))
    # One ticket form per card, each with its own ids so labels stay unique.
    items = [(card, CallCardTicketForm(auto_id=f"card-{card.public_id}-%s")) for card in page]
    return render(request, "tickets/call_cards.html", {"form": form, "page": page, "items": items})


@require_POST
@permission_required(CHANGE)
def call_card_ticket(request: HttpRequest, public_id: str) -> HttpResponse:
    card = CallCard.objects.filter(public_id=public_id).first()
    if card is None:
        raise Http404
    form = CallCardTicketForm(request.POST)
    if form.is_valid():
        try:
            ticket = call_card_to_ticket(
                card=card, actor=request.user, now=timezone.now(), **form.cleaned_data
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            return redirect("ticket-detail", ticket.number)
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("call-cards")
