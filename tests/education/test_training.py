"""Study sessions: expected lists, roll calls, make-ups, rates, sign-in sheet."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Attendance, AuditEvent, Department, Employee, TrainingSession
from services.audit import reading
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied, StaleVersion, ValidationError
from services.core.permissions import Role, UnitKind, roles_for
from services.core.versioning import RowsSaved
from services.education import training
from services.education.training import Audience
from services.ledger.roster import search_staff, staff_in_post
from tests.factories import (
    D1,
    TODAY,
    YEAR,
    admin_of,
    change_events,
    close_year,
    colleague,
    count,
    counting,
    leave,
    make_staff,
    new_session,
    race,
)


def statuses(engine, session_id) -> dict[int, str]:
    with read_session(engine) as s:
        return dict(
            s.execute(
                select(Attendance.employee_id, Attendance.status).where(Attendance.session_id == session_id)
            ).all()
        )


@pytest.fixture
def leader(actors):
    return actors[Role.LEADER]


# ---------------------------------------------------------------- creating


def test_create_session_fixes_the_expected_list(engine, leader):
    staff = make_staff(engine, 4)
    sid = new_session(engine, leader)
    assert statuses(engine, sid) == {e: "expected" for e in staff}
    # A later hire is not retro-expected.
    make_staff(engine, 1)
    assert len(statuses(engine, sid)) == 4
    details, roster = training.get_session(engine, leader, sid)
    assert details["hours"] == training.Decimal("1.5") and details["form"] == "study"
    assert list(roster["staff_no"]) == sorted(
        roster["staff_no"], key=lambda n: (roster.set_index("staff_no").loc[n, "department"], n)
    )
    with read_session(engine) as s:
        ev = s.execute(select(AuditEvent).where(AuditEvent.entity_type == "training_session")).scalar_one()
    assert ev.action == "create" and json.loads(ev.details) == {"expected": 4}


def test_audience_departments_and_people(engine, leader):
    staff = make_staff(engine, 6)
    with read_session(engine) as s:
        math = s.execute(select(Department.id).where(Department.name == "数学组")).scalar_one()
        in_math = set(s.execute(select(Employee.id).where(Employee.department_id == math)).scalars())
    sid = new_session(engine, leader, audience=Audience.departments([math]))
    assert set(statuses(engine, sid)) == in_math
    sid2 = new_session(engine, leader, audience=Audience.people(staff[:2]))
    assert set(statuses(engine, sid2)) == set(staff[:2])


def test_staff_who_left_or_not_yet_hired_are_not_expected(engine, leader):
    staff = make_staff(engine, 3)
    later = make_staff(engine, 1, hire_date=D1 + timedelta(days=1))
    leave(engine, staff[0], D1)  # left that day: not expected
    leave(engine, staff[1], D1 + timedelta(days=1), "retired")  # still in post on D1
    sid = new_session(engine, leader)
    assert set(statuses(engine, sid)) == {staff[1], staff[2]}
    assert later[0] not in statuses(engine, sid)
    with pytest.raises(ValidationError, match="was not on the staff"):
        new_session(engine, leader, audience=Audience.people([staff[0]]))


def test_left_after_creation_keeps_history_but_is_not_counted_later(engine, leader):
    staff = make_staff(engine, 2)
    sid = new_session(engine, leader)
    training.record_roll_call(engine, leader, sid, {}, others="present")
    leave(engine, staff[0], D1)  # recorded afterwards, dated the session's day
    rates = training.attendance_rates(engine, leader, YEAR, "session")
    assert rates.loc[0, "expected"] == 1
    assert len(statuses(engine, sid)) == 2  # the row is kept


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"title": "  "}, "title"),
        ({"form": "party"}, "form"),
        ({"hours": "0"}, "hours"),
        ({"hours": "1.25"}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"hours": "25"}, "hours"),
        ({"audience": Audience.departments([])}, "audience"),
        ({"audience": Audience.owing()}, "audience"),
    ],
)
def test_bad_session_input_is_refused_and_writes_nothing(engine, leader, bad, field):
    make_staff(engine, 2)
    kwargs = dict(held_on=D1, title="学习", form="study", hours="1", audience=Audience.all()) | bad
    before = change_events(engine), count(engine, TrainingSession), count(engine, Attendance)
    with pytest.raises(ValidationError) as exc:
        training.create_session(engine, leader, **kwargs)
    assert exc.value.field == field
    assert exc.value.translated("zh_CN") != exc.value.msgid  # a Chinese message
    assert (change_events(engine), count(engine, TrainingSession), count(engine, Attendance)) == before


def test_only_the_leader_edits_and_every_role_reads(engine, actors):
    make_staff(engine, 2)
    for role in (Role.ADMIN, Role.PRINCIPAL, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            new_session(engine, actors[role])
    sid = new_session(engine, actors[Role.LEADER])
    for role in roles_for(UnitKind.SCHOOL):
        training.get_session(engine, actors[role], sid)
        training.attendance_rates(engine, actors[role], YEAR, "person")
        training.owed_makeups(engine, actors[role], YEAR)
    with pytest.raises(PermissionDenied):
        training.record_roll_call(engine, actors[Role.PRINCIPAL], sid, {}, others="present")
    assert set(statuses(engine, sid).values()) == {"expected"}


# ---------------------------------------------------------------- roll call


def test_roll_call_one_save_one_event_per_change(engine, leader):
    staff = make_staff(engine, 5)
    sid = new_session(engine, leader)
    before = change_events(engine)
    changed = training.record_roll_call(
        engine, leader, sid, {staff[0]: "absent", staff[1]: "excused"}, others="present"
    ).changed
    assert changed == 5
    assert statuses(engine, sid) == {staff[0]: "absent", staff[1]: "excused", **{e: "present" for e in staff[2:]}}
    assert change_events(engine) == before + 5
    # Saving the same again changes nothing and records nothing.
    assert training.record_roll_call(
        engine, leader, sid, {staff[0]: "absent", staff[1]: "excused"}, others="present"
    ) == RowsSaved(0)
    assert change_events(engine) == before + 5
    training.record_roll_call(engine, leader, sid, {staff[0]: "present"})
    with read_session(engine) as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (last.entity_type, last.household_id) == ("attendance", staff[0])
    assert json.loads(last.before) == {"status": "absent"} and json.loads(last.after) == {"status": "present"}
    assert reading.verify_chain(engine, admin_of(engine)).ok


def test_roll_call_refusals_write_nothing(engine, leader):
    staff = make_staff(engine, 3)
    sid = new_session(engine, leader, audience=Audience.people(staff[:2]))
    future = new_session(engine, leader, held_on=TODAY + timedelta(days=3))
    before = change_events(engine)
    with pytest.raises(ValidationError, match="not on this session's expected list"):
        training.record_roll_call(engine, leader, sid, {staff[0]: "present", staff[2]: "present"})
    with pytest.raises(ValidationError, match="has not taken place yet"):
        training.record_roll_call(engine, leader, future, {}, others="present")
    with pytest.raises(ValidationError):
        training.record_roll_call(engine, leader, sid, {staff[0]: "late"})
    with pytest.raises(ValidationError, match="not by hand"):
        training.record_roll_call(engine, leader, sid, {staff[0]: "made_up"})
    assert change_events(engine) == before
    assert set(statuses(engine, sid).values()) == {"expected"}


def test_set_expected_adds_and_removes(engine, leader):
    staff = make_staff(engine, 4)
    sid = new_session(engine, leader, audience=Audience.people(staff[:2]))
    result = training.set_expected(engine, leader, sid, [staff[1], staff[2], staff[3]])
    assert result == {"added": 2, "removed": 1}
    assert set(statuses(engine, sid)) == set(staff[1:])
    with pytest.raises(ValidationError):
        training.set_expected(engine, leader, sid, [999_999])


# ---------------------------------------------------------------- make-ups


def test_makeup_turns_absence_into_made_up_and_back(engine, leader):
    staff = make_staff(engine, 4)
    original = new_session(engine, leader)
    training.record_roll_call(engine, leader, original, {staff[0]: "absent", staff[1]: "excused"}, others="present")
    makeup = new_session(engine, leader, audience=Audience.owing(), makeup_of=original, title="补学")
    assert set(statuses(engine, makeup)) == {staff[0], staff[1]}
    assert set(training.owed_makeups(engine, leader, YEAR)["employee_id"]) == {staff[0], staff[1]}

    before = change_events(engine)
    changed = training.record_roll_call(engine, leader, makeup, {staff[0]: "present", staff[1]: "absent"}).changed
    assert changed == 3  # two at the make-up, one propagated to the original
    assert change_events(engine) == before + 3
    assert statuses(engine, original)[staff[0]] == "made_up"
    assert statuses(engine, original)[staff[1]] == "excused"
    assert list(training.owed_makeups(engine, leader, YEAR)["employee_id"]) == [staff[1]]
    # made_up cannot be undone at the original, only at the make-up.
    with pytest.raises(ValidationError, match="make-up session"):
        training.record_roll_call(engine, leader, original, {staff[0]: "absent"})
    # Taking the make-up attendance back restores what it was.
    training.record_roll_call(engine, leader, makeup, {staff[0]: "absent"})
    assert statuses(engine, original)[staff[0]] == "absent"
    # Removing someone from the make-up's list takes their make-up back too.
    training.record_roll_call(engine, leader, makeup, {staff[0]: "present"})
    training.set_expected(engine, leader, makeup, [staff[1]])
    assert statuses(engine, original)[staff[0]] == "absent"


def test_makeup_cannot_precede_the_original(engine, leader):
    make_staff(engine, 2)
    original = new_session(engine, leader, held_on=D1 + timedelta(days=1) if TODAY > D1 else D1)
    with pytest.raises(ValidationError, match="before the session it makes up"):
        new_session(engine, leader, held_on=D1 - timedelta(days=1), makeup_of=original)


# ---------------------------------------------------------------- rates


def test_rates_on_a_hand_made_dataset(engine, leader):
    a, b, c, d = make_staff(engine, 4)  # a, c in 语文组; b, d in 数学组
    s1 = new_session(engine, leader)
    s2 = new_session(engine, leader, audience=Audience.people([a, b]))
    training.record_roll_call(engine, leader, s1, {a: "absent", b: "excused", c: "present", d: "absent"})
    training.record_roll_call(engine, leader, s2, {a: "present", b: "present"})
    m = new_session(engine, leader, audience=Audience.people([a]), makeup_of=s1, title="补学")
    training.record_roll_call(engine, leader, m, {a: "present"})

    person = training.attendance_rates(engine, leader, YEAR, "person").set_index("employee_id")
    assert person.loc[a, ["expected", "present", "made_up"]].tolist() == [2, 1, 1]
    assert person.loc[a, "rate"] == 1.0
    assert person.loc[b, "rate"] == 0.5 and person.loc[d, "rate"] == 0.0 and person.loc[c, "rate"] == 1.0
    dept = training.attendance_rates(engine, leader, YEAR, "department").set_index("department")
    assert dept.loc["语文组", "expected"] == 3 and dept.loc["语文组", "rate"] == 1.0  # a twice (1 made up), c once
    assert dept.loc["数学组", "expected"] == 3 and round(dept.loc["数学组", "rate"], 4) == round(1 / 3, 4)
    session = training.attendance_rates(engine, leader, YEAR, "session").set_index("session_id")
    assert session.loc[s1, "rate"] == 0.5 and session.loc[s2, "rate"] == 1.0 and session.loc[m, "rate"] == 1.0
    month = training.attendance_rates(engine, leader, YEAR, "month")
    assert month["month"].tolist() == [1] and month.loc[0, "expected"] == 6 and month.loc[0, "rate"] == round(4 / 6, 4)
    owed = training.owed_makeups(engine, leader, YEAR)
    assert sorted(owed["employee_id"]) == [b, d]
    # Another year is empty.
    assert training.attendance_rates(engine, leader, YEAR - 1, "person").empty


@pytest.mark.parametrize("by", ["person", "department", "session", "month"])
def test_rates_take_one_query_whatever_the_number_of_staff(engine, leader, by):
    counts = []
    for n in (20, 200):
        make_staff(engine, n if not counts else n - 20)
        sid = new_session(engine, leader, title=f"学习{n}")
        training.record_roll_call(engine, leader, sid, {}, others="present")
        with counting(engine) as statements:
            frame = training.attendance_rates(engine, leader, YEAR, by)
        assert not frame.empty
        counts.append(len([s for s in statements if "attendance" in s.lower()]))
    assert counts == [1, 1]


def test_roll_call_audit_is_bulk(engine, leader):
    make_staff(engine, 60)
    sid = new_session(engine, leader)
    with counting(engine) as statements:
        assert training.record_roll_call(engine, leader, sid, {}, others="present") == RowsSaved(60)
    assert len(statements) < 20
    assert reading.verify_chain(engine, admin_of(engine)).ok


# ---------------------------------------------------------------- sheets


def test_sign_in_sheet_opens_and_lists_the_expected(engine, leader):
    staff = make_staff(engine, 5)
    sid = new_session(engine, leader)
    data = training.sign_in_sheet_xlsx(engine, leader, sid, "zh_CN")
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    assert "测试实验小学" in sheet["A1"].value
    assert "学习《人口与计划生育法》" in sheet["A2"].value and D1.isoformat() in sheet["A3"].value
    assert [c.value for c in sheet[4]] == ["序号", "部门", "工号", "姓名", "签名"]
    assert sheet.max_row == 4 + len(staff)
    assert sheet.print_title_rows == "$4:$4"
    assert sheet.page_setup.paperSize in (9, "9")

    # Filled in and read back: a signature is present, 请假 excused, empty absent.
    staff_nos = [sheet.cell(r, 3).value for r in range(5, 10)]
    sheet.cell(5, 5).value = "张三"
    sheet.cell(6, 5).value = "请假"
    sheet.cell(7, 5).value = "签"
    out = io.BytesIO()
    book.save(out)
    marks = training.marks_from_sign_in_sheet(engine, leader, sid, out.getvalue())
    with read_session(engine) as s:
        by_no = dict(s.execute(select(Employee.staff_no, Employee.id)).all())
    assert marks == {
        by_no[staff_nos[0]]: "present",
        by_no[staff_nos[1]]: "excused",
        by_no[staff_nos[2]]: "present",
        by_no[staff_nos[3]]: "absent",
        by_no[staff_nos[4]]: "absent",
    }
    assert training.record_roll_call(engine, leader, sid, marks) == RowsSaved(5)
    with pytest.raises(ValidationError):
        training.marks_from_sign_in_sheet(engine, leader, sid, b"not a workbook")


def test_followup_workbook(engine, leader):
    staff = make_staff(engine, 3)
    sid = new_session(engine, leader)
    training.record_roll_call(engine, leader, sid, {staff[0]: "absent"}, others="present")
    book = openpyxl.load_workbook(io.BytesIO(training.followup_xlsx(engine, leader, YEAR, "zh_CN")))
    assert book.sheetnames == ["按人员", "按部门", "按场次", "待补学"]
    assert book["待补学"].max_row == 2


# ---------------------------------------------------------------- demo


def test_demo_unit_has_a_year_of_sessions_and_leaflets(engine, actors):
    from services.devdata import demo
    from services.education import outreach

    demo.load_demo(engine, staff=30)
    leader = actors[Role.LEADER]
    with read_session(engine) as s:
        sessions = s.execute(select(TrainingSession)).scalars().all()
        made_up = s.execute(
            select(func.count()).select_from(Attendance).where(Attendance.status == "made_up")
        ).scalar_one()
        ev = s.execute(select(AuditEvent).where(AuditEvent.action == "demo_load")).scalar_one()
    assert all(t.held_on.year == YEAR for t in sessions)
    assert any(t.makeup_of_id for t in sessions) and made_up > 0
    # Nothing marked in the future.
    future = [t.id for t in sessions if t.held_on > TODAY]
    for sid in future:
        assert set(statuses(engine, sid).values()) == {"expected"}
    rates = training.attendance_rates(engine, leader, YEAR, "session")
    held = rates[rates["held_on"] <= TODAY]
    assert (held["unmarked"] == 0).all() and (held["rate"] > 0.5).all()
    cov = outreach.coverage(engine, leader, YEAR)
    assert len(cov) >= 1 and (cov["coverage"] > 0.5).all()
    assert json.loads(ev.details)["sessions"] == len(sessions)
    assert reading.verify_chain(engine, actors[Role.ADMIN]).ok


def test_list_and_edit_sessions(engine, leader):
    staff = make_staff(engine, 3)
    sid = new_session(engine, leader)
    training.record_roll_call(engine, leader, sid, {staff[0]: "absent"}, others="present")
    frame = training.list_sessions(engine, leader, YEAR)
    assert frame.loc[0, ["expected", "present", "absent"]].tolist() == [3, 2, 1]
    assert frame.loc[0, "hours"] == training.Decimal("1.5")
    version = training.update_session(engine, leader, sid, 1, title="新标题", hours="2")
    assert version == 2
    assert training.update_session(engine, leader, sid, 2, title="新标题") == 2  # nothing changed
    with pytest.raises(StaleVersion, match="after you opened it"):
        training.update_session(engine, leader, sid, 1, title="旧")
    with pytest.raises(ValidationError, match="cannot move into the future"):
        training.update_session(engine, leader, sid, 2, held_on=TODAY + timedelta(days=2))
    details, _ = training.get_session(engine, leader, sid)
    assert (details["title"], details["hours"], details["version"]) == ("新标题", training.Decimal(2), 2)


# ---------------------------------------------------------------- gaps: moving, late make-ups, delete, year lock


def test_moving_a_session_recomputes_the_expected_list_of_the_unmarked(engine, leader):
    if TODAY < date(YEAR, 3, 1):
        pytest.skip("needs two past dates of this year a while apart")
    early, late = date(YEAR, 1, 10), date(YEAR, 2, 20)
    staff = make_staff(engine, 3)
    hired = make_staff(engine, 1, hire_date=date(YEAR, 2, 1))[0]
    leave(engine, staff[2], date(YEAR, 2, 1))
    sid = new_session(engine, leader, held_on=early)
    assert set(statuses(engine, sid)) == set(staff)
    before = change_events(engine)
    version = training.update_session(engine, leader, sid, 1, held_on=late)
    assert version == 2
    assert set(statuses(engine, sid)) == {staff[0], staff[1], hired}
    assert change_events(engine) == before + 3  # the session, one added, one taken off
    # Marked people who were on the staff on both days do not stop a move back.
    training.record_roll_call(engine, leader, sid, {staff[0]: "absent"})
    assert training.update_session(engine, leader, sid, 2, held_on=early) == 3
    assert set(statuses(engine, sid)) == {staff[0], staff[1], staff[2]}
    assert statuses(engine, sid)[staff[0]] == "absent"


def test_moving_refused_when_someone_marked_was_not_in_post(engine, leader):
    if TODAY < date(YEAR, 3, 1):
        pytest.skip("needs two past dates of this year a while apart")
    make_staff(engine, 2)
    hired = make_staff(engine, 1, hire_date=date(YEAR, 2, 1))[0]
    sid = new_session(engine, leader, held_on=date(YEAR, 2, 20))
    training.record_roll_call(engine, leader, sid, {hired: "present"})
    before = change_events(engine), statuses(engine, sid)
    with pytest.raises(ValidationError, match="already marked at this session"):
        training.update_session(engine, leader, sid, 1, held_on=date(YEAR, 1, 10))
    assert (change_events(engine), statuses(engine, sid)) == before
    details, _ = training.get_session(engine, leader, sid)
    assert details["held_on"] == date(YEAR, 2, 20)


def test_absent_at_the_original_after_attending_the_makeup_is_made_up(engine, leader):
    staff = make_staff(engine, 3)
    original = new_session(engine, leader)
    training.record_roll_call(engine, leader, original, {staff[0]: "excused"}, others="present")
    makeup = new_session(engine, leader, audience=Audience.owing(), makeup_of=original, title="补学")
    training.set_expected(engine, leader, makeup, [staff[0], staff[1]])  # staff[1] came along too
    training.record_roll_call(engine, leader, makeup, {}, others="present")
    assert statuses(engine, original)[staff[0]] == "made_up"
    # The original's roll call is corrected afterwards: staff[1] was in fact absent.
    before = change_events(engine)
    assert training.record_roll_call(engine, leader, original, {staff[1]: "absent"}) == RowsSaved(1)
    assert statuses(engine, original)[staff[1]] == "made_up"
    with read_session(engine) as s:
        row = s.execute(
            select(Attendance).where(Attendance.session_id == original, Attendance.employee_id == staff[1])
        ).scalar_one()
        last = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (row.made_up_in_id, row.made_up_from) == (makeup, "absent")
    assert json.loads(last.after) == {"status": "made_up"} and change_events(engine) == before + 1
    # Taking back the make-up attendance restores the corrected mark.
    training.record_roll_call(engine, leader, makeup, {staff[1]: "absent"})
    assert statuses(engine, original)[staff[1]] == "absent"


def test_delete_session_only_while_nothing_is_marked(engine, leader):
    staff = make_staff(engine, 3)
    sid = new_session(engine, leader)
    other = new_session(engine, leader, title="另一次")
    training.record_roll_call(engine, leader, other, {staff[0]: "absent"})
    makeup = new_session(engine, leader, audience=Audience.owing(), makeup_of=other, title="补学")
    before = change_events(engine), count(engine, TrainingSession), count(engine, Attendance)
    with pytest.raises(ValidationError, match="already recorded for 1 people"):
        training.delete_session(engine, leader, other, 1)
    with pytest.raises(StaleVersion, match="after you opened it"):
        training.delete_session(engine, leader, sid, 7)
    with pytest.raises(PermissionDenied):
        training.delete_session(engine, admin_of(engine), sid, 1)
    assert (count(engine, TrainingSession), count(engine, Attendance)) == before[1:]
    training.delete_session(engine, leader, sid, 1)
    training.delete_session(engine, leader, makeup, 1)
    assert count(engine, TrainingSession) == before[1] - 2
    assert count(engine, Attendance) == before[2] - 3 - 1
    with read_session(engine) as s:
        last = (
            s.execute(select(AuditEvent).where(AuditEvent.action == "delete").order_by(AuditEvent.id)).scalars().all()
        )
    assert [(e.entity_type, e.entity_id) for e in last[-2:]] == [
        ("training_session", str(sid)),
        ("training_session", str(makeup)),
    ]
    assert json.loads(last[-2].before)["title"] == "学习《人口与计划生育法》"
    unmarked = new_session(engine, leader, title="未点名")
    new_session(engine, leader, audience=Audience.people(staff[:1]), makeup_of=unmarked, title="补学2")
    with pytest.raises(ValidationError, match="1 make-up"):
        training.delete_session(engine, leader, unmarked, 1)


def test_a_signed_off_year_refuses_every_session_write(engine, actors, leader):
    from services.core.yearlock import YearLocked

    staff = make_staff(engine, 3)
    sid = new_session(engine, leader)
    training.record_roll_call(engine, leader, sid, {staff[0]: "absent"})
    spare = new_session(engine, leader, title="未点名")
    close_year(engine, actors[Role.PRINCIPAL], YEAR)
    before = change_events(engine), count(engine, TrainingSession), statuses(engine, sid)
    writes = [
        lambda: new_session(engine, leader),
        lambda: training.update_session(engine, leader, sid, 1, title="改"),
        lambda: training.set_expected(engine, leader, sid, staff[:2]),
        lambda: training.record_roll_call(engine, leader, sid, {staff[0]: "present"}),
        lambda: new_session(engine, leader, audience=Audience.owing(), makeup_of=sid, title="补学"),
        lambda: training.delete_session(engine, leader, spare, 1),
    ]
    for write in writes:
        with pytest.raises(YearLocked, match=f"{YEAR} has been signed off"):
            write()
    assert (change_events(engine), count(engine, TrainingSession), statuses(engine, sid)) == before
    # Another year stays open.
    assert new_session(engine, leader, held_on=date(YEAR - 1, 6, 1))
    with pytest.raises(YearLocked):  # and a session cannot be moved into the locked year
        other = new_session(engine, leader, held_on=date(YEAR - 1, 7, 1), title="去年")
        training.update_session(engine, leader, other, 1, held_on=D1)


def test_history_and_staff_in_post(engine, leader):
    staff = make_staff(engine, 3)
    leave(engine, staff[2], D1)
    assert set(staff_in_post(engine, leader, D1)["employee_id"]) == {staff[0], staff[1]}
    sid = new_session(engine, leader)
    other = new_session(engine, leader, title="另一次")
    training.record_roll_call(engine, leader, sid, {staff[0]: "absent"})
    training.record_roll_call(engine, leader, other, {staff[1]: "absent"})
    history = training.session_history(engine, leader, sid)
    assert list(history["entity_id"]) == [f"{sid}:{staff[0]}", str(sid)]  # newest first, nothing of the other session
    assert list(history["action"]) == ["update", "create"]


def test_search_staff_in_post_by_staff_no_name_or_department(engine, leader):
    staff = make_staff(engine, 12)  # S0000..S0011, 员工0..员工11, alternately 语文组 / 数学组
    leave(engine, staff[1], D1)
    search = lambda text, limit=50: search_staff(engine, leader, D1, text, limit)  # noqa: E731

    everyone, total = search("")
    assert total == 11 and len(everyone) == 11 and staff[1] not in set(everyone["employee_id"])
    assert list(everyone.columns) == ["employee_id", "staff_no", "name", "department"]
    found, n = search("员工3")
    assert n == 1 and found.iloc[0].to_dict() == {
        "employee_id": staff[3],
        "staff_no": "S0003",
        "name": "员工3",
        "department": "数学组",
    }
    found, n = search("s001")  # any case
    assert n == 2 and set(found["employee_id"]) == {staff[10], staff[11]}
    # An exact staff no. comes first, ahead of the others containing it (otherwise by department, 数学组 first).
    with write_session(engine) as s:
        s.get(Employee, staff[4]).staff_no = "S001"  # 语文组
    found, n = search(" S001 ")
    assert n == 3 and list(found["employee_id"]) == [staff[4], staff[11], staff[10]]
    assert list(search("S001", limit=1)[0]["employee_id"]) == [staff[4]]
    # A department, and every word must match somewhere.
    assert search("数学组")[1] == 5
    assert set(search("数学组 员工1")[0]["employee_id"]) == {staff[11]}
    # The limit bounds the rows, not the count; LIKE wildcards are plain characters.
    page, n = search("组", limit=4)
    assert (len(page), n) == (4, 11)
    assert search("%")[1] == 0 and search("_")[1] == 0
    assert search("组", limit=0)[0].empty


def test_search_staff_in_post_takes_two_statements_whatever_the_size(engine, leader):
    counts = []
    for n in (10, 300):
        make_staff(engine, n if not counts else n - 10)
        with counting(engine) as statements:
            page, total = search_staff(engine, leader, D1, "员工", limit=50)
        assert (len(page), total) == (min(n, 50), n)
        counts.append(len([s for s in statements if "employee" in s.lower()]))
    assert counts == [2, 2]


# ---------------------------------------------------------------- roll calls saved per row


def _view_versions(engine, leader, sid) -> dict[int, int]:
    _, view = training.get_session(engine, leader, sid)
    return {int(e): int(v) for e, v in zip(view["employee_id"], view["version"], strict=True)}


def test_a_roll_call_based_on_an_older_view_keeps_the_rows_changed_since_and_saves_the_others(engine, actors, leader):
    staff = make_staff(engine, 4)
    sid = new_session(engine, leader)
    other = colleague(engine, actors)
    view = _view_versions(engine, leader, sid)  # both open the roll call
    assert training.record_roll_call(
        engine, other, sid, {staff[0]: "absent", staff[1]: "excused"}, based_on=view
    ) == RowsSaved(2)
    before = change_events(engine)
    saved = training.record_roll_call(
        engine,
        leader,
        sid,
        {staff[0]: "present", staff[1]: "excused", staff[2]: "excused", staff[3]: "present"},
        based_on=view,
    )
    # staff[0]: changed since and marked otherwise: refused, naming who and when; staff[1]: the same mark, nothing lost.
    with read_session(engine) as s:
        marked_at = s.execute(
            select(Attendance.marked_at).where(Attendance.session_id == sid, Attendance.employee_id == staff[0])
        ).scalar_one()
    assert [(c.employee_id, c.who, c.when) for c in saved.refused] == [(staff[0], "陈干事", marked_at)]
    assert saved.refused[0].name and saved.refused[0].when_shown
    assert saved.changed == 2 and change_events(engine) == before + 2
    assert statuses(engine, sid) == {staff[0]: "absent", staff[1]: "excused", staff[2]: "excused", staff[3]: "present"}
    assert _view_versions(engine, leader, sid) == {staff[0]: 2, staff[1]: 2, staff[2]: 2, staff[3]: 2}
    # Based on the current view, the same mark is saved.
    again = training.record_roll_call(
        engine, leader, sid, {staff[0]: "present"}, based_on=_view_versions(engine, leader, sid)
    )
    assert again == RowsSaved(1) and statuses(engine, sid)[staff[0]] == "present"


def test_two_roll_calls_racing_from_the_same_view_lose_no_mark(engine, actors, leader, monkeypatch):
    staff = make_staff(engine, 4)
    other = colleague(engine, actors)
    for _ in range(2):
        sid = new_session(engine, leader)
        view = _view_versions(engine, leader, sid)
        wants = {
            leader.username: {staff[0]: "absent", staff[1]: "present", staff[2]: "present"},
            other.username: {staff[0]: "excused", staff[1]: "present", staff[3]: "absent"},
        }
        results = race(
            engine,
            [
                lambda a=a, i=sid, w=wants, v=view: training.record_roll_call(engine, a, i, w[a.username], based_on=v)
                for a in (leader, other)
            ],
            meet=(training, "ensure_year_open"),
            monkeypatch=monkeypatch,
        )
        assert all(isinstance(r, RowsSaved) for r in results), results
        won = [i for i, r in enumerate(results) if not r.refused]
        assert len(won) == 1, results
        winner, loser = (leader, other)[won[0]], (leader, other)[1 - won[0]]
        refused = results[1 - won[0]].refused
        assert [(c.employee_id, c.who) for c in refused] == [(staff[0], winner.display_name)]
        assert statuses(engine, sid) == {
            staff[0]: wants[winner.username][staff[0]],  # the winner's mark, not overwritten
            staff[1]: "present",
            staff[2]: "present",
            staff[3]: "absent",  # each one's other marks saved
        }
        assert loser.username != winner.username
