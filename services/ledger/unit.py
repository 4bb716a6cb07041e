"""The unit profile and first-run setup."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models import Unit, User
from models._common import utcnow
from services.accounts.auth import add_user, new_user
from services.audit import trail
from services.audit.access import authorize, write_as
from services.core.db import read_session, write_session
from services.core.errors import ValidationError
from services.core.formatting import local_today
from services.core.i18n import N_
from services.core.permissions import Actor, Permission, Role, UnitKind

UNIT_ID = 1


def get_unit(engine: Engine) -> Unit | None:
    """The unit profile; readable by every signed-in role and by the login page."""
    with read_session(engine) as session:
        return session.get(Unit, UNIT_ID)


def unit_kind(engine: Engine) -> str:
    """The unit's kind (permissions.UnitKind value); "school" while it is not set up."""
    with read_session(engine) as session:
        kind = session.execute(select(Unit.kind).where(Unit.id == UNIT_ID)).scalar_one_or_none()
    return kind or UnitKind.SCHOOL.value


def is_initialised(engine: Engine) -> bool:
    with read_session(engine) as session:
        return session.get(Unit, UNIT_ID) is not None and session.execute(select(User.id).limit(1)).first() is not None


def _clean_profile(
    name: str, district: str, leader_name: str, principal_name: str, *, names_required: bool = True
) -> dict[str, str]:
    """The profile's fields stripped and checked; a district office (`names_required=False`)
    has no designated leader or principal, so those two may stay empty."""
    values = {
        "name": (name or "").strip(),
        "district": (district or "").strip(),
        "leader_name": (leader_name or "").strip(),
        "principal_name": (principal_name or "").strip(),
    }
    labels = {
        "name": N_("Unit name"),
        "district": N_("District"),
        "leader_name": N_("Designated leader"),
        "principal_name": N_("Principal"),
    }
    for field, value in values.items():
        limit = 100 if field in ("name", "district") else 50
        least = 1 if names_required or field in ("name", "district") else 0
        if not least <= len(value) <= limit:
            raise ValidationError(
                N_("{label}: enter 1 to {limit} characters."), field=field, label=labels[field], limit=limit
            )
    return values


def initialise(
    engine: Engine,
    *,
    unit_name: str,
    district: str,
    leader_name: str,
    principal_name: str,
    admin_username: str,
    admin_display_name: str,
    admin_password: str,
    via: str = "setup",
    kind: str = UnitKind.SCHOOL.value,
) -> User:
    """First run: the unit profile and the first administrator, in one transaction.

    `kind` is "school" or "district" (permissions.UnitKind), fixed from then on; a district
    office's profile names its district as both unit and district, and its head and officer
    in the two name fields.

    Refused once any account exists, so the setup page cannot be replayed to take
    over an installed system.
    """
    try:
        kind = UnitKind(kind).value
    except ValueError:
        raise ValidationError(N_("Unknown kind of unit: {kind}."), field="kind", kind=kind) from None
    profile = _clean_profile(
        unit_name, district, leader_name, principal_name, names_required=kind == UnitKind.SCHOOL.value
    )
    admin = new_user(admin_username, admin_display_name, Role.ADMIN, admin_password)
    with write_session(engine) as session:
        if session.execute(select(User.id).limit(1)).first() is not None:
            raise ValidationError(N_("Taizhang is already set up; sign in instead."))
        unit = session.get(Unit, UNIT_ID)
        if unit is None:
            unit = Unit(id=UNIT_ID, current_year=local_today().year, kind=kind, **profile)
            session.add(unit)
            session.flush()
            trail.record(
                session,
                None,
                "create",
                entity_type="unit",
                entity_id=UNIT_ID,
                after=trail.snapshot(unit),
                actor_name=via,
            )
        add_user(session, None, admin, via=via)
    return admin


def update_unit(
    engine: Engine,
    actor: Actor,
    *,
    name: str,
    district: str,
    leader_name: str,
    principal_name: str,
    current_year: int,
    sanction_years: int,
) -> Unit:
    authorize(engine, actor, Permission.ADMINISTER, "edit unit profile")
    profile = _clean_profile(name, district, leader_name, principal_name)
    if not 2000 <= int(current_year) <= 2100:
        raise ValidationError(N_("The assessment year must be between 2000 and 2100."), field="current_year")
    if not 1 <= int(sanction_years) <= 5:
        raise ValidationError(N_("A case blocks between 1 and 5 years."), field="sanction_years")
    with write_as(engine, actor) as session:
        unit = session.get_one(Unit, UNIT_ID)  # set up before anyone can sign in to edit it
        wanted = {**profile, "current_year": int(current_year), "sanction_years": int(sanction_years)}
        before, after = trail.diff(trail.snapshot(unit, list(wanted)), wanted)
        if after:
            for key, value in after.items():
                setattr(unit, key, value)
            unit.updated_at = utcnow()
            session.add(unit)
            trail.record(session, actor, "update", entity_type="unit", entity_id=UNIT_ID, before=before, after=after)
        return unit
