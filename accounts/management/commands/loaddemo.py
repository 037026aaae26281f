"""Demo data for a lived-in desk. Idempotent: running it again adds nothing
that is there already. Later capabilities add their own sections here."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Absence, Customer, Grade, OnCallShift, User
from accounts.roles import Role, roles_sync
from backups.demo import load_demo_backups
from inventory.demo_deliveries import load_demo_deliveries
from inventory.demo_items import load_demo_items
from inventory.demo_stock import load_demo_stock
from inventory.demo_updates import load_demo_updates
from tickets.models import CauseCode, SlaContract, Task, Ticket
from tickets.seed import seed_reference_data
from tickets.services import (
    escalation_request,
    extension_request,
    ticket_assign,
    ticket_classify,
    ticket_create,
    ticket_message_add,
    ticket_transition,
)
from tickets.sla_services import sla_sweep
from tickets.task_services import task_close, task_create

SLA_CONTRACTS = [
    ("standard", "Standard", "Business hours Mon-Fri 08:30-17:30."),
    ("managed", "Managed hosting", "P1 resolution around the clock (24x7)."),
]

CUSTOMERS = [
    # number, name, email, phone, managed, contract
    (
        "1000",
        "Hoogendijk Logistiek B.V.",
        "it@hoogendijk.example",
        "+31 10 555 0100",
        True,
        "managed",
    ),
    (
        "2000",
        "Bakkerij De Korenschoof",
        "info@korenschoof.example",
        "+31 70 555 0200",
        False,
        "standard",
    ),
    ("1010", "Zeeland Zorggroep", "ict@zeelandzorg.example", "+31 118 555 010", True, "managed"),
    (
        "2020",
        "Fietsenmakerij Van Rijn",
        "webshop@vanrijn.example",
        "+31 20 555 0220",
        False,
        "standard",
    ),
    (
        "3030",
        "Stichting Cultuurhuis Delft",
        "beheer@cultuurhuis.example",
        "+31 15 555 0330",
        False,
        "standard",
    ),
]

STAFF = [
    # username, first, last, grade, roles
    ("jr", "Jesse", "de Jong", Grade.JUNIOR, [Role.ENGINEER]),
    ("sr", "Sanne", "Rietveld", Grade.SENIOR, [Role.ENGINEER, Role.CAB_MEMBER]),
    ("head", "Hans", "Eikelenboom", Grade.SENIOR, [Role.ENGINEER, Role.HEAD_OF_DEPARTMENT]),
    ("cm", "Carla", "Mulder", Grade.SENIOR, [Role.ENGINEER, Role.CHANGE_MANAGER, Role.CAB_MEMBER]),
    ("itm", "Ingrid", "Terpstra", "", [Role.IT_MANAGER]),
    ("sales", "Sven", "Aalders", "", [Role.SALES]),
]

CUSTOMER_USERS = [
    ("customer1", "Kees", "Hoogendijk", "1000"),
    ("customer2", "Karin", "Korenhof", "2000"),
]


class Command(BaseCommand):
    help = "Load the demo customers, people, roles and sample work (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        password = settings.DEMO_PASSWORD
        roles_sync()
        seed_reference_data()
        contracts = {
            code: SlaContract.objects.update_or_create(
                code=code, defaults={"name": name, "description": text}
            )[0]
            for code, name, text in SLA_CONTRACTS
        }
        for number, name, email, phone, managed, contract in CUSTOMERS:
            Customer.objects.get_or_create(
                number=number,
                defaults={
                    "name": name,
                    "email": email,
                    "phone": phone,
                    "is_managed": managed,
                    "sla_contract": contracts[contract],
                },
            )
        staff = {}
        for username, first, last, grade, roles in STAFF:
            user = self._user(username, password, first_name=first, last_name=last, is_staff=True)
            user.grade = grade
            user.save(update_fields=["grade"])
            user.groups.set(Group.objects.filter(name__in=roles))
            staff[username] = user
        admin = self._user("admin", password, first_name="Beheer", last_name="", is_staff=True)
        if not admin.is_superuser:
            admin.is_superuser = True
            admin.save(update_fields=["is_superuser"])
        for username, first, last, number in CUSTOMER_USERS:
            self._user(
                username,
                password,
                first_name=first,
                last_name=last,
                customer=Customer.objects.get(number=number),
            )
        self._people_plans(staff, now)
        self._tasks(staff, now)
        self._tickets(staff, now)
        self._knowledge(staff, now)
        load_demo_backups(staff, now)
        load_demo_items(staff, now)
        load_demo_stock(staff, now)
        load_demo_updates(staff, now)
        load_demo_deliveries(staff, now)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))

    def _user(self, username: str, password: str, **fields: Any) -> User:
        email = f"{username}@servicedesk.example"
        user, created = User.objects.get_or_create(
            username=username, defaults={**fields, "email": email}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user

    def _people_plans(self, staff: dict[str, User], now: datetime) -> None:
        today = timezone.localdate(now)
        Absence.objects.get_or_create(
            user=staff["jr"],
            starts_on=today + timedelta(days=7),
            defaults={
                "ends_on": today + timedelta(days=11),
                "substitute": staff["sr"],
                "reason": "Holiday",
            },
        )
        # A week of standby from last Monday 17:30, alternating sr and head.
        monday = today - timedelta(days=today.weekday())
        for offset in range(14):
            day = monday + timedelta(days=offset)
            starts = timezone.make_aware(datetime.combine(day, time(17, 30)))
            OnCallShift.objects.get_or_create(
                user=staff["sr"] if (offset // 7) % 2 == 0 else staff["head"],
                starts_at=starts,
                defaults={"ends_at": starts + timedelta(hours=15)},
            )

    def _tasks(self, staff: dict[str, User], now: datetime) -> None:
        if Task.objects.filter(title__startswith="Demo:").exists():
            return
        today = timezone.localdate(now)
        task_create(
            title="Demo: renew the TLS certificate of the customer portal",
            description="The certificate expires in three weeks. Renew it and check the chain.",
            assignee=staff["jr"],
            actor=staff["head"],
            due_date=today + timedelta(days=5),
            now=now,
        )
        parent = task_create(
            title="Demo: move the mail cluster to the new storage",
            assignee=staff["sr"],
            actor=staff["head"],
            due_date=today + timedelta(days=14),
            now=now,
        )
        task_create(
            title="Demo: test a restore of the mail store",
            assignee=staff["jr"],
            actor=staff["sr"],
            parent=parent,
            due_date=today + timedelta(days=3),
            now=now,
        )
        done = task_create(
            title="Demo: update the on-call phone list",
            assignee=staff["jr"],
            actor=staff["head"],
            due_date=today - timedelta(days=1),
            now=now - timedelta(days=2),
        )
        task_close(
            task=done, actor=staff["jr"], now=now, remark="Updated and shared with the team."
        )
        task_create(
            title="Demo: overdue: check the firewall rule review",
            assignee=staff["jr"],
            actor=staff["itm"],
            due_date=today - timedelta(days=2),
            now=now - timedelta(days=5),
        )

    def _tickets(self, staff: dict[str, User], now: datetime) -> None:
        """A desk in use: new, waiting, escalating, extended, breached, resolved."""
        if Ticket.objects.filter(subject__startswith="Webshop").exists():
            return
        customer = {c.number: c for c in Customer.objects.all()}
        portal_user = User.objects.get(username="customer1")
        ago = lambda **kw: now - timedelta(**kw)  # noqa: E731

        ticket_create(
            customer=customer["1000"],
            subject="Webshop returns 502 Bad Gateway",
            message="Since a few minutes our webshop shows 502 errors. Orders are stuck.",
            type="incident",
            channel="portal",
            impact="high",
            urgency="high",
            requested_priority=1,
            actor=portal_user,
            now=ago(minutes=20),
        )
        mail = ticket_create(
            customer=customer["2000"],
            subject="Mail to customers bounces",
            message="Customers say our order confirmations bounce since yesterday.",
            type="incident",
            channel="phone",
            category="software",
            impact="medium",
            urgency="high",
            actor=staff["jr"],
            now=ago(hours=3),
        )
        ticket_assign(ticket=mail, assignee=staff["jr"], actor=staff["head"], now=ago(hours=3))
        ticket_message_add(
            ticket=mail,
            body="We are checking the SPF record and the mail queue.",
            public=True,
            actor=staff["jr"],
            now=ago(hours=2, minutes=40),
        )
        escalation_request(
            ticket=mail,
            reason="SPF looks right and the queue is empty; tried with Sanne.",
            tried_together=True,
            supplier="",
            actor=staff["jr"],
            now=ago(hours=1),
        )
        vpn = ticket_create(
            customer=customer["1010"],
            subject="VPN for the new office",
            message="Please set up a site-to-site VPN to our new office in Goes.",
            type="service_request",
            channel="email",
            category="network",
            impact="low",
            urgency="medium",
            actor=staff["sr"],
            now=ago(days=2),
        )
        ticket_assign(ticket=vpn, assignee=staff["sr"], actor=staff["sr"], now=ago(days=2))
        ticket_message_add(
            ticket=vpn,
            body="Which public IP address does the new office have?",
            public=True,
            actor=staff["sr"],
            now=ago(days=2) + timedelta(minutes=30),
        )
        ticket_transition(
            ticket=vpn,
            to="waiting_on_customer",
            actor=staff["sr"],
            now=ago(days=2) + timedelta(minutes=31),
        )
        disk = ticket_create(
            customer=customer["2020"],
            subject="Disk almost full on web01",
            message="Monitoring: /var at 93%.",
            type="incident",
            channel="monitoring",
            category="hardware",
            impact="medium",
            urgency="medium",
            actor=staff["jr"],
            now=ago(days=6),
        )
        ticket_classify(
            ticket=disk, impact="medium", urgency="medium", actor=staff["jr"], now=ago(days=6)
        )
        extension_request(
            ticket=disk,
            reason="A larger disk is ordered; delivery next week.",
            appointment=now + timedelta(days=5),
            actor=staff["jr"],
            now=ago(hours=2),
        )
        cert = ticket_create(
            customer=customer["3030"],
            subject="Certificate warning on the booking site",
            message="Visitors see a certificate warning.",
            type="incident",
            channel="portal",
            category="security",
            impact="high",
            urgency="medium",
            actor=staff["jr"],
            now=ago(days=4),
        )
        ticket_assign(ticket=cert, assignee=staff["jr"], actor=staff["jr"], now=ago(days=4))
        ticket_transition(
            ticket=cert,
            to="resolved",
            resolution="solved",
            cause_code=CauseCode.objects.get(code="configuration"),
            note="The renewed certificate was installed without its intermediate; fixed.",
            actor=staff["jr"],
            now=ago(days=1),
        )
        sla_sweep(now=now)

    def _knowledge(self, staff: dict[str, User], now: datetime) -> None:
        """Articles, a known error, a call waiting to become a ticket and a
        mail from an unknown sender waiting for triage."""
        from tickets.channel_services import call_card_create
        from tickets.kb_services import (
            article_create,
            article_link,
            problem_create,
            problem_transition,
        )
        from tickets.models import Article

        if Article.objects.exists():
            return
        spf = article_create(
            data={
                "title": "Outgoing mail bounces with an SPF failure",
                "symptom": "Recipients reject mail: 550 5.7.23 SPF validation failed.",
                "cause": "The domain's SPF record does not list the relay that sends the mail.",
                "solution": "Add the relay (include:relay.servicedesk.example) to the SPF record "
                "and lower the TTL while testing.",
            },
            actor=staff["sr"],
            now=now - timedelta(days=30),
        )
        article_create(
            data={
                "title": "Plesk panel unreachable after an update",
                "symptom": "https://host:8443 times out after a Plesk update.",
                "cause": "The update restarted sw-cp-server with an old firewall rule set.",
                "solution": "Restart sw-cp-server and reload the firewall.",
                "is_workaround": True,
            },
            actor=staff["sr"],
            now=now - timedelta(days=20),
        )
        mail_ticket = Ticket.objects.filter(subject__startswith="Mail to customers").first()
        if mail_ticket is not None:
            article_link(article=spf, ticket=mail_ticket, actor=staff["jr"], now=now)
            problem = problem_create(
                title="Relay drops mail under load",
                description="Several customers report bounces at peak hours.",
                actor=staff["sr"],
                now=now - timedelta(days=3),
                incidents=[mail_ticket],
            )
            problem_transition(
                problem=problem,
                to="known_error",
                workaround="Send through the second relay until the fix is in.",
                actor=staff["sr"],
                now=now - timedelta(days=2),
            )
        call_card_create(
            phone="+31 15 555 0330",
            customer_number="3030",
            caller="Anneke de Wit",
            summary="Asks whether the booking site can get a second admin account.",
            received_at=now - timedelta(minutes=25),
            actor=staff["jr"],
            now=now,
        )
        ticket_create(
            customer=None,
            subject="Question about your rates",
            message="Hello, we are looking for hosting for our new webshop. What does it cost?",
            type="information_request",
            channel="email",
            reply_to="info@nieuwe-klant.example",
            author_label="info@nieuwe-klant.example",
            actor=None,
            now=now - timedelta(hours=1),
        )
