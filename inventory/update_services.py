"""Writes for machine updates.

A release is registered (seen on a mailing list, Tweakers, a vendor advisory):
every machine's installed copy of that software gets its "behind" flag
recomputed and every machine that is behind gets an update candidate. An
engineer researches the candidate (impact, does it apply to us, downtime, does
the customer want it, is there a workaround, redundant so one node at a time);
an update that applies becomes a change and passes the classifier. Then the
appointment (with a test plan, and the customer informed), the customer's
approval (in the portal, or recorded by staff), the test, the installation,
the post-install test and the registration of how it was done, after which the
customer is informed again.

update_transition is the one place an update's status changes; it writes the
event that is the update's history and the outbox of the customer's mails."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from changes.models import Change, ChangeStatus, Classification
from changes.services import change_record_outcome, change_replan, change_start
from events.services import event_record, fields_apply
from inventory.item_services import software_set
from inventory.models import (
    UPDATE_TRANSITIONS,
    ConfigurationItem,
    InstalledSoftware,
    ItemStatus,
    MachineUpdate,
    SoftwareRelease,
    UpdateStatus,
)
from inventory.update_changes import update_change_submit
from inventory.update_rules import update_window, windows_overlap
from inventory.versions import is_behind

BATCH = 500
# An update in these states holds its appointment: another node of the same
# redundancy group must not be updated at the same time.
HOLDING_APPOINTMENT = (
    UpdateStatus.SCHEDULED,
    UpdateStatus.APPROVED,
    UpdateStatus.TESTED,
    UpdateStatus.INSTALLED,
)
# A change in one of these states cannot be carried out any more: a new
# attempt at the update needs a new change.
_CHANGE_FINISHED = (
    ChangeStatus.REJECTED,
    ChangeStatus.IMPLEMENTED,
    ChangeStatus.FAILED,
    ChangeStatus.ROLLED_BACK,
    ChangeStatus.CLOSED,
)


# --- Helpers ----------------------------------------------------------------------


def _require_staff(actor: Any) -> None:
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied(_("Only staff carry out machine updates."))


def _require_status(update: MachineUpdate, *statuses: str) -> None:
    if update.status not in statuses:
        raise ValidationError(
            {
                "status": _("Not possible while the update is %(status)s.")
                % {"status": UpdateStatus(update.status).label}
            }
        )


def _lock(update: MachineUpdate) -> MachineUpdate:
    # of=("self",): the customer is an outer join, which PostgreSQL cannot lock.
    return (
        MachineUpdate.objects.select_for_update(of=("self",))
        .select_related("item__customer", "change")
        .get(pk=update.pk)
    )


def _assign_numbers(updates: list[MachineUpdate]) -> None:
    for update in updates:
        update.number = f"U-{update.pk:06d}"
    MachineUpdate.objects.bulk_update(updates, ["number"], batch_size=BATCH)


@transaction.atomic
def update_transition(
    *,
    update: MachineUpdate,
    to: str,
    actor: Any,
    now: datetime,
    reason: str = "",
    values: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> MachineUpdate:
    """The one place an update's status changes: checks UPDATE_TRANSITIONS,
    sets the step's fields and writes the event with what changed."""
    if to not in UPDATE_TRANSITIONS[update.status]:
        raise ValidationError(
            {
                "status": _("An update that is %(from)s cannot become %(to)s.")
                % {"from": UpdateStatus(update.status).label, "to": UpdateStatus(to).label}
            }
        )
    changes = fields_apply(update, values or {}, created=False)
    from_state = update.status
    update.status, update.updated_at = to, now
    update.save(update_fields=["status", "updated_at", *changes])
    event_data = dict(data or {})
    if changes:
        event_data["changes"] = changes
    event_record(
        obj=update,
        kind="update.transition",
        actor=actor,
        now=now,
        from_state=from_state,
        to_state=to,
        reason=reason,
        data=event_data,
    )
    return update


# --- Releases and candidates -------------------------------------------------------


@transaction.atomic
def software_release_register(
    *,
    name: str,
    version: str,
    source: str,
    actor: Any,
    now: datetime,
    published_on: date | None = None,
) -> SoftwareRelease:
    """Record the newest version of a piece of software. Every installed copy
    gets its latest version and "behind" flag recomputed (in batches), and each
    machine that is behind, and not decommissioned, gets an update candidate;
    the unique (machine, software, version) makes registering twice harmless.
    Older candidates nobody has researched yet are superseded."""
    _require_staff(actor)
    name, version, source = name.strip(), version.strip(), source.strip()
    errors: dict[str, str] = {}
    if not name or len(name) > 100:
        errors["name"] = _("Name the software (at most 100 characters).")
    if not version or len(version) > 50:
        errors["version"] = _("Give the version (at most 50 characters).")
    if len(source) > 300:
        errors["source"] = _("At most 300 characters.")
    if errors:
        raise ValidationError(errors)
    release, created = _release_locked(name, version, now)
    if not created and is_behind(version, release.version):
        raise ValidationError(
            {
                "version": _("A newer release is known already: %(version)s.")
                % {"version": release.version}
            }
        )
    changes = fields_apply(
        release,
        {"version": version, "source": source, "published_on": published_on},
        created=created,
    )
    if created or "version" in changes:
        release.registered_at = now
    release.save()
    behind = _installed_refresh(release)
    candidates = _candidates_create(release, behind, actor, now)
    _candidates_supersede(release, behind, actor, now)
    event_record(
        obj=release,
        kind="software_release.created" if created else "software_release.registered",
        actor=actor,
        now=now,
        data={
            "changes": changes,
            "machines_behind": len(behind),
            "candidates": [u.number for u in candidates],
        },
    )
    return release


def _release_locked(name: str, version: str, now: datetime) -> tuple[SoftwareRelease, bool]:
    """The release row of this software, locked, created when new. Names are
    matched without regard to case: "OpenSSL" and "openssl" are one. Two
    registrations of new software at once: the second waits on the unique
    name, then reads and locks the first one's row."""
    for _attempt in range(2):
        release = SoftwareRelease.objects.select_for_update().filter(name__iexact=name).first()
        if release is not None:
            return release, False
        release = SoftwareRelease(name=name, version=version, registered_at=now)
        try:
            with transaction.atomic():
                release.save(force_insert=True)
        except IntegrityError:
            continue
        return release, True
    raise AssertionError("unreachable: the row exists after a unique violation")


@dataclass(frozen=True)
class _Behind:
    item_id: int
    name: str  # as the machine spells it
    version: str


def _installed_refresh(release: SoftwareRelease) -> list[_Behind]:
    """Set latest_version and behind on every installed copy, writing only the
    rows that change, in batches. Returns the copies on live machines that
    are behind."""
    behind: list[_Behind] = []
    pending: list[InstalledSoftware] = []
    rows = (
        InstalledSoftware.objects.filter(name__iexact=release.name)
        .select_related("item")
        .only("pk", "name", "version", "latest_version", "behind", "item__status")
        .order_by("pk")
    )
    for row in rows.iterator(chunk_size=BATCH):
        is_old = is_behind(row.version, release.version)
        if row.latest_version != release.version or row.behind != is_old:
            row.latest_version, row.behind = release.version, is_old
            pending.append(row)
        if is_old and row.item.status != ItemStatus.DECOMMISSIONED:
            behind.append(_Behind(row.item_id, row.name, row.version))
        if len(pending) >= BATCH:
            InstalledSoftware.objects.bulk_update(pending, ["latest_version", "behind"])
            pending = []
    if pending:
        InstalledSoftware.objects.bulk_update(pending, ["latest_version", "behind"])
    return behind


def _candidates_create(
    release: SoftwareRelease, behind: list[_Behind], actor: Any, now: datetime
) -> list[MachineUpdate]:
    existing = set(
        MachineUpdate.objects.filter(
            item_id__in=[b.item_id for b in behind], new_version=release.version
        ).values_list("item_id", "software")
    )
    new = [
        MachineUpdate(
            item_id=b.item_id,
            software=b.name,
            current_version=b.version,
            new_version=release.version,
            source=release.source,
            created_at=now,
            updated_at=now,
        )
        for b in behind
        if (b.item_id, b.name) not in existing
    ]
    if not new:
        return []
    try:
        with transaction.atomic():
            created = MachineUpdate.objects.bulk_create(new, batch_size=BATCH)
    except IntegrityError:
        # Someone registered the same release at the same moment: create one
        # by one and leave out what the other registration created.
        created = [update for update in new if _create_one(update)]
    _assign_numbers(created)
    for update in created:
        event_record(
            obj=update,
            kind="update.candidate",
            actor=actor,
            now=now,
            to_state=UpdateStatus.CANDIDATE,
            data={"release": str(release), "source": release.source},
        )
    return created


def _create_one(update: MachineUpdate) -> bool:
    update.pk = None
    try:
        with transaction.atomic():
            update.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def _candidates_supersede(
    release: SoftwareRelease, behind: list[_Behind], actor: Any, now: datetime
) -> None:
    """A candidate for an older version that nobody researched yet is
    superseded by the newer release's candidate."""
    older = MachineUpdate.objects.filter(
        status=UpdateStatus.CANDIDATE,
        item_id__in=[b.item_id for b in behind],
        software__iexact=release.name,
    ).exclude(new_version=release.version)
    for update in older.select_for_update(of=("self",)):
        if is_behind(update.new_version, release.version):
            update_transition(
                update=update,
                to=UpdateStatus.NOT_APPLICABLE,
                actor=actor,
                now=now,
                reason=_("Superseded by %(version)s.") % {"version": release.version},
            )


@transaction.atomic
def update_create(
    *,
    item: ConfigurationItem,
    software: str,
    new_version: str,
    actor: Any,
    now: datetime,
    source: str = "",
) -> MachineUpdate:
    """An update candidate entered by hand (for software without a registered
    release, or a machine found by looking)."""
    _require_staff(actor)
    software, new_version = software.strip(), new_version.strip()
    errors: dict[str, str] = {}
    if item.status == ItemStatus.DECOMMISSIONED:
        errors["item"] = _("The machine is decommissioned.")
    if not software or len(software) > 100:
        errors["software"] = _("Name the software (at most 100 characters).")
    if not new_version or len(new_version) > 50:
        errors["new_version"] = _("Give the new version (at most 50 characters).")
    if len(source.strip()) > 300:
        errors["source"] = _("At most 300 characters.")
    if errors:
        raise ValidationError(errors)
    installed = item.software.filter(name__iexact=software).first()
    if installed is not None:
        software = installed.name
        if not is_behind(installed.version, new_version):
            raise ValidationError(
                {
                    "new_version": _("%(host)s runs %(software)s %(version)s already.")
                    % {"host": item, "software": software, "version": installed.version}
                }
            )
    if MachineUpdate.objects.filter(
        item=item, software__iexact=software, new_version=new_version
    ).exists():
        raise ValidationError(
            {"new_version": _("This update of this machine is registered already.")}
        )
    update = MachineUpdate(
        item=item,
        software=software,
        current_version=installed.version if installed else "",
        new_version=new_version,
        source=source.strip(),
        created_at=now,
        updated_at=now,
    )
    if not _create_one(update):
        raise ValidationError(
            {"new_version": _("This update of this machine is registered already.")}
        )
    _assign_numbers([update])
    event_record(
        obj=update,
        kind="update.candidate",
        actor=actor,
        now=now,
        to_state=UpdateStatus.CANDIDATE,
        data={"source": update.source, "by_hand": True},
    )
    return update


# --- Research and the change -------------------------------------------------------


@transaction.atomic
def update_research(
    *,
    update: MachineUpdate,
    impact: str,
    applies: bool,
    causes_downtime: bool,
    downtime_minutes: int | None,
    customer_wants_it: bool,
    workaround: str,
    one_node_at_a_time: bool,
    actor: Any,
    now: datetime,
    reason: str = "",
    investment: bool = False,
    investment_justification: str = "",
    rollback_plan: str = "",
) -> MachineUpdate:
    """Record the research. An update that does not apply is closed as not
    applicable (with the reason); one that applies is researched and becomes a
    change, classified from the research."""
    _require_staff(actor)
    update = _lock(update)
    _require_status(update, UpdateStatus.CANDIDATE)
    item = update.item
    errors: dict[str, str] = {}
    if not impact.strip():
        errors["impact"] = _("Describe the impact of the update.")
    if causes_downtime and not downtime_minutes:
        errors["downtime_minutes"] = _("Estimate the downtime in minutes.")
    if one_node_at_a_time and not item.redundancy_group:
        errors["one_node_at_a_time"] = _(
            "Record the machine's redundancy group first: one node at a time needs it."
        )
    if not applies and not reason.strip():
        errors["reason"] = _("Say why the update does not apply.")
    if errors:
        raise ValidationError(errors)
    values: dict[str, Any] = {
        "impact": impact.strip(),
        "applies": applies,
        "causes_downtime": causes_downtime,
        "downtime_minutes": downtime_minutes if causes_downtime else None,
        "customer_wants_it": customer_wants_it,
        "workaround": workaround.strip(),
        "one_node_at_a_time": one_node_at_a_time,
        "engineer": update.engineer or actor,
    }
    if not applies:
        return update_transition(
            update=update,
            to=UpdateStatus.NOT_APPLICABLE,
            actor=actor,
            now=now,
            reason=reason.strip(),
            values=values,
        )
    # The change is written from the research; the update itself changes in
    # update_transition, which records every field in the event.
    draft = copy.copy(update)
    fields_apply(draft, values, created=False)
    change = update_change_submit(
        draft,
        actor=actor,
        now=now,
        investment=investment,
        investment_justification=investment_justification,
        rollback_plan=rollback_plan,
    )
    values["change"] = change
    return update_transition(
        update=update,
        to=UpdateStatus.RESEARCHED,
        actor=actor,
        now=now,
        values=values,
        data={"change": change.number, "classification": change.classification},
    )


# --- Appointment and approval ------------------------------------------------------


@transaction.atomic
def update_schedule(
    *,
    update: MachineUpdate,
    appointment_at: datetime,
    actor: Any,
    now: datetime,
    test_plan: str,
) -> MachineUpdate:
    """Make (or move) the appointment. No appointment without a test plan; the
    customer is informed of the appointment and the expected downtime. A
    redundant machine is updated one node at a time: an appointment that
    overlaps an open update of another node of its group is refused."""
    _require_staff(actor)
    update = _lock(update)
    _require_status(update, UpdateStatus.RESEARCHED, UpdateStatus.SCHEDULED, UpdateStatus.FAILED)
    errors: dict[str, str] = {}
    if not test_plan.strip():
        errors["test_plan"] = _("Write the test plan first: no test without a test plan.")
    if appointment_at <= now:
        errors["appointment_at"] = _("The appointment must lie in the future.")
    if errors:
        raise ValidationError(errors)
    window = update_window(appointment_at, update.causes_downtime, update.downtime_minutes)
    _refuse_overlap(update, window)
    retry = update.status == UpdateStatus.FAILED
    change = update.change
    if change is None or change.status in _CHANGE_FINISHED:
        # A failed attempt's change is finished: the new attempt is a new
        # change, with the plans and the investment answer of the old one.
        draft = copy.copy(update)
        draft.appointment_at = appointment_at
        change = update_change_submit(
            draft,
            actor=actor,
            now=now,
            investment=bool(change and change.investment),
            investment_justification=change.justifications.get("investment", "") if change else "",
            rollback_plan=change.rollback_plan if change else "",
        )
    else:
        change_replan(change=change, start=window[0], end=window[1], actor=actor, now=now)
    customer = update.item.customer
    values: dict[str, Any] = {
        "appointment_at": appointment_at,
        "test_plan": test_plan.strip(),
        "change": change,
        "customer_informed_before_at": now if customer else None,
        "engineer": update.engineer or actor,
    }
    if retry:
        # A new attempt needs a new approval and new results; the old ones
        # stay in the history.
        values.update(
            approved_at=None,
            approved_by=None,
            approval_note="",
            test_result="",
            installed_at=None,
            post_install_result="",
        )
    return update_transition(
        update=update,
        to=UpdateStatus.SCHEDULED,
        actor=actor,
        now=now,
        reason=_("rescheduled") if update.status != UpdateStatus.RESEARCHED else "",
        values=values,
        data={
            "appointment_at": appointment_at.isoformat(),
            "window_end": window[1].isoformat(),
            "change": change.number,
        },
    )


def _refuse_overlap(update: MachineUpdate, window: tuple[datetime, datetime]) -> None:
    group = update.item.redundancy_group
    if not group:
        return
    # Lock the group's machines so two engineers booking nodes of one group at
    # the same moment are serialised and cannot both pass the check.
    list(
        ConfigurationItem.objects.select_for_update()
        .filter(redundancy_group=group)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    others = (
        MachineUpdate.objects.filter(
            item__redundancy_group=group,
            status__in=HOLDING_APPOINTMENT,
            appointment_at__isnull=False,
        )
        .exclude(item_id=update.item_id)
        .select_related("item")
        .order_by("appointment_at")
    )
    for other in others:
        if other.appointment_at is None or not (
            update.one_node_at_a_time or other.one_node_at_a_time
        ):
            continue
        theirs = update_window(other.appointment_at, other.causes_downtime, other.downtime_minutes)
        if windows_overlap(window, theirs):
            raise ValidationError(
                {
                    "appointment_at": _(
                        "Overlaps %(number)s on %(host)s (%(start)s): redundancy group "
                        "%(group)s is updated one node at a time."
                    )
                    % {
                        "number": other.number,
                        "host": other.item.reference,
                        "start": f"{theirs[0]:%Y-%m-%d %H:%M %Z}",
                        "group": group,
                    }
                }
            )


@transaction.atomic
def update_approve(
    *, update: MachineUpdate, actor: Any, now: datetime, note: str = ""
) -> MachineUpdate:
    """The customer approves the appointment: a user of the machine's customer
    in the portal, or staff recording how the customer approved (phone, mail)."""
    update = _lock(update)
    customer_id = getattr(actor, "customer_id", None)
    if customer_id:
        if customer_id != update.item.customer_id:
            raise PermissionDenied(_("Only the machine's customer approves its update."))
    elif getattr(actor, "is_staff", False):
        if not note.strip():
            raise ValidationError(
                {"note": _("Record how the customer approved (phone, mail, who).")}
            )
    else:
        raise PermissionDenied(_("Only the customer or staff record an approval."))
    _require_status(update, UpdateStatus.SCHEDULED)
    return update_transition(
        update=update,
        to=UpdateStatus.APPROVED,
        actor=actor,
        now=now,
        reason=note.strip(),
        values={"approved_at": now, "approved_by": actor, "approval_note": note.strip()},
        data={"in_portal": bool(customer_id)},
    )


# --- Test, install, verify, register ------------------------------------------------


def _fail(
    update: MachineUpdate,
    *,
    reason: str,
    actor: Any,
    now: datetime,
    values: dict[str, Any] | None = None,
) -> MachineUpdate:
    """The update failed: its change, when it was being carried out, gets the
    outcome "failed". A new appointment is the way forward."""
    change = update.change
    if change is not None and change.status == ChangeStatus.IN_PROGRESS:
        change_record_outcome(
            change=change, outcome=ChangeStatus.FAILED, note=reason, actor=actor, now=now
        )
    return update_transition(
        update=update,
        to=UpdateStatus.FAILED,
        actor=actor,
        now=now,
        reason=reason,
        values=values,
    )


@transaction.atomic
def update_fail(*, update: MachineUpdate, reason: str, actor: Any, now: datetime) -> MachineUpdate:
    """Stop an attempt (the customer declined, the change was rejected, the
    install went wrong); the customer is told and a new appointment follows."""
    _require_staff(actor)
    update = _lock(update)
    _require_status(update, *HOLDING_APPOINTMENT)
    if not reason.strip():
        raise ValidationError({"reason": _("Say what went wrong.")})
    return _fail(update, reason=reason.strip(), actor=actor, now=now)


@transaction.atomic
def update_test(
    *, update: MachineUpdate, passed: bool, result: str, actor: Any, now: datetime
) -> MachineUpdate:
    """Test the new version following the test plan, after the customer's approval."""
    _require_staff(actor)
    update = _lock(update)
    _require_status(update, UpdateStatus.APPROVED)
    if not update.test_plan.strip():
        raise ValidationError({"test_plan": _("No test without a test plan.")})
    if not result.strip():
        raise ValidationError({"result": _("Record the test result.")})
    values = {"test_result": result.strip()}
    if not passed:
        return _fail(update, reason=result.strip(), actor=actor, now=now, values=values)
    return update_transition(
        update=update, to=UpdateStatus.TESTED, actor=actor, now=now, values=values
    )


@transaction.atomic
def update_install(*, update: MachineUpdate, actor: Any, now: datetime) -> MachineUpdate:
    """Install the tested version. The change is started (a major change only
    once the CAB approved it) and the machine's software gets the new version."""
    _require_staff(actor)
    update = _lock(update)
    _require_status(update, UpdateStatus.TESTED)
    change = update.change
    if change is None:
        raise ValidationError({"change": _("The update has no change.")})
    change = Change.objects.select_for_update().get(pk=change.pk)
    if change.status in (ChangeStatus.SUBMITTED, ChangeStatus.AWAITING_CAB) and (
        change.classification == Classification.MAJOR
    ):
        raise ValidationError(
            {
                "change": _("Change %(number)s is major: the CAB must approve it first.")
                % {"number": change.number}
            }
        )
    if change.status in (ChangeStatus.SUBMITTED, ChangeStatus.APPROVED):
        change_start(change=change, actor=actor, now=now)
    elif change.status != ChangeStatus.IN_PROGRESS:
        raise ValidationError(
            {
                "change": _("Change %(number)s is %(status)s.")
                % {"number": change.number, "status": ChangeStatus(change.status).label}
            }
        )
    software_set(
        item=update.item,
        name=update.software,
        version=update.new_version,
        actor=actor,
        now=now,
    )
    return update_transition(
        update=update,
        to=UpdateStatus.INSTALLED,
        actor=actor,
        now=now,
        values={"installed_at": now},
    )


@transaction.atomic
def update_verify(
    *,
    update: MachineUpdate,
    passed: bool,
    post_install_result: str,
    actor: Any,
    now: datetime,
) -> MachineUpdate:
    """The short test after installing: does everything run well?"""
    _require_staff(actor)
    update = _lock(update)
    _require_status(update, UpdateStatus.INSTALLED)
    if not post_install_result.strip():
        raise ValidationError({"post_install_result": _("Record the post-install test.")})
    values = {"post_install_result": post_install_result.strip()}
    if not passed:
        return _fail(
            update, reason=post_install_result.strip(), actor=actor, now=now, values=values
        )
    return update_transition(
        update=update, to=UpdateStatus.VERIFIED, actor=actor, now=now, values=values
    )


@transaction.atomic
def update_register(
    *, update: MachineUpdate, how_done: str, actor: Any, now: datetime
) -> MachineUpdate:
    """Register how the update was done; the change is implemented and the
    customer is informed."""
    _require_staff(actor)
    update = _lock(update)
    _require_status(update, UpdateStatus.VERIFIED)
    if not how_done.strip():
        raise ValidationError({"how_done": _("Register how the update was done.")})
    change = update.change
    if change is not None and change.status == ChangeStatus.IN_PROGRESS:
        change_record_outcome(
            change=change,
            outcome=ChangeStatus.IMPLEMENTED,
            note=how_done.strip(),
            actor=actor,
            now=now,
        )
    return update_transition(
        update=update,
        to=UpdateStatus.DONE,
        actor=actor,
        now=now,
        values={
            "how_done": how_done.strip(),
            "customer_informed_after_at": now if update.item.customer_id else None,
        },
    )
