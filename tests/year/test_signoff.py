"""Year sign-off: the lock, versions, byte-identical downloads, reopening, permissions."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import select

from models import AuditEvent, TrainingSession, ViolationCase, YearClosure
from services.core.db import read_session, write_session
from services.core.errors import (
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationError,
)
from services.core.formatting import local_today
from services.core.permissions import Role
from services.core.yearlock import YearLocked, ensure_year_open
from services.year import signoff
from services.year.report import checksum_of
from tests.factories import Y, build_year


@pytest.fixture
def built(engine, actors):
    return build_year(engine, actors)


def add_session(engine, year: int) -> None:
    """A write of a record of `year` as the ledger's services do it: ensure_year_open first."""
    with write_session(engine) as s:
        ensure_year_open(s, year)
        s.add(
            TrainingSession(held_on=date(year, 11, 1), title="补充学习", form="study", hours_tenths=10, audience="all")
        )


def test_sign_off_stores_the_report_and_locks_the_year(engine, actors, built):
    principal = actors[Role.PRINCIPAL]
    add_session(engine, Y)  # open: allowed
    signed = signoff.sign_off(engine, principal, Y)
    assert signed.version == 1 and signed.signed_off_by == "李校长" and signed.reopened_at is None
    status = signoff.closure_status(engine, actors[Role.AUDITOR], Y)
    assert status.locked and [v.version for v in status.versions] == [1]
    with pytest.raises(YearLocked) as err:
        add_session(engine, Y)
    assert "2025" in err.value.translated("en") and "signed off" in err.value.translated("en")
    # A case of the year is refused the same way, and nothing was written.
    with pytest.raises(YearLocked), write_session(engine) as s:
        ensure_year_open(s, Y)
        s.add(
            ViolationCase(
                case_no="2025-099",
                employee_id=built.ids["E1"],
                category_id=built.ids["category"],
                occurred_on=date(Y, 1, 2),
                facts="x",
                basis="y",
                year=Y,
                recorded_by_id=actors[Role.LEADER].id,
                recorded_by_name="王分管",
            )
        )
    with read_session(engine) as s:
        assert s.execute(select(ViolationCase).where(ViolationCase.case_no == "2025-099")).first() is None
    add_session(engine, Y + 1)  # other years stay open
    ensure_year_open_none(engine)


def ensure_year_open_none(engine) -> None:
    with write_session(engine) as s:
        ensure_year_open(s, None)  # a record without a year is never refused


def test_signed_report_downloads_byte_identical_with_its_checksum(engine, actors, built):
    signoff.sign_off(engine, actors[Role.PRINCIPAL], Y)
    with read_session(engine) as s:
        row = s.execute(select(YearClosure)).scalars().one()
    got = signoff.signed_report(engine, actors[Role.LEADER], Y)
    assert got.workbook == row.workbook and got.summary == row.summary
    assert hashlib.sha256(got.workbook).hexdigest() == row.workbook_sha256
    assert hashlib.sha256(got.summary).hexdigest() == row.summary_sha256
    assert checksum_of(got.workbook) == row.checksum == got.version.checksum
    assert got.version.workbook_filename == "测试实验小学_2025年计划生育综合治理年报.xlsx"
    # Asking again gives the same bytes (no regeneration).
    assert signoff.signed_report(engine, actors[Role.PRINCIPAL], Y, version=1).workbook == got.workbook


def test_reopen_needs_a_reason_and_the_next_sign_off_is_a_new_version(engine, actors, built):
    principal, admin = actors[Role.PRINCIPAL], actors[Role.ADMIN]
    first = signoff.sign_off(engine, principal, Y)
    first_bytes = signoff.signed_report(engine, principal, Y).workbook
    with pytest.raises(YearLocked):
        signoff.sign_off(engine, principal, Y)
    with pytest.raises(ValidationError) as err:
        signoff.reopen(engine, admin, Y, "   ")
    assert err.value.field == "reason"
    assert signoff.closure_status(engine, admin, Y).locked
    reopened = signoff.reopen(engine, admin, Y, "补录一场培训")
    assert reopened.version == 1 and reopened.reopen_reason == "补录一场培训" and reopened.reopened_by == "系统管理员"
    assert not signoff.closure_status(engine, admin, Y).locked
    with pytest.raises(ServiceError):
        signoff.reopen(engine, admin, Y, "again")  # nothing signed to reopen
    add_session(engine, Y)  # writable again
    second = signoff.sign_off(engine, principal, Y)
    assert second.version == 2 and second.checksum != first.checksum  # the new session is in it
    status = signoff.closure_status(engine, principal, Y)
    assert status.locked and [v.version for v in status.versions] == [1, 2]
    assert status.versions[0].reopen_reason == "补录一场培训" and status.current.version == 2
    # The first version is still there, byte for byte.
    assert signoff.signed_report(engine, principal, Y, version=1).workbook == first_bytes
    assert signoff.signed_report(engine, principal, Y).version.version == 2
    with read_session(engine) as s:
        events = (
            s.execute(select(AuditEvent).where(AuditEvent.entity_type == "year_closure").order_by(AuditEvent.id))
            .scalars()
            .all()
        )
    assert [e.action for e in events] == ["sign_off", "reopen", "sign_off"]
    assert json.loads(events[1].details)["reason"] == "补录一场培训"
    assert json.loads(events[0].after)["checksum"] == first.checksum
    assert events[0].actor_name == "principal" and events[1].actor_name == "admin"


def test_only_the_principal_signs_off_and_only_the_admin_reopens(engine, actors, built):
    for role in (Role.LEADER, Role.ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            signoff.sign_off(engine, actors[role], Y)
    assert not signoff.closure_status(engine, actors[Role.LEADER], Y).versions
    signoff.sign_off(engine, actors[Role.PRINCIPAL], Y)
    for role in (Role.LEADER, Role.PRINCIPAL, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            signoff.reopen(engine, actors[role], Y, "reason")
    for role in (Role.ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            signoff.signed_report(engine, actors[role], Y)
    assert signoff.closure_status(engine, actors[Role.LEADER], Y).locked


def test_refusals(engine, actors, built):
    with pytest.raises(NotFound):
        signoff.signed_report(engine, actors[Role.PRINCIPAL], Y)
    with pytest.raises(ValidationError):
        signoff.sign_off(engine, actors[Role.PRINCIPAL], local_today().year + 1)
    with pytest.raises(ServiceError):
        signoff.reopen(engine, actors[Role.ADMIN], Y, "never signed")
    with read_session(engine) as s:
        assert s.execute(select(YearClosure)).first() is None
