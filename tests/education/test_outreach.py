"""Leaflets: expected households, PDF attachments, bulk receipts, coverage, receipt list."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from models import AuditEvent, Distribution, Employee, Leaflet, LeafletAttachment
from services.audit import reading
from services.core.db import read_session
from services.core.errors import NotFound, PermissionDenied, StaleVersion, ValidationError
from services.core.formatting import local_today
from services.core.permissions import Role, UnitKind, roles_for
from services.core.versioning import RowsSaved
from services.education import outreach
from services.education.outreach import DistributionMark as Mark
from services.education.training import Audience
from tests.factories import (
    D1,
    PDF,
    YEAR,
    admin_of,
    change_events,
    close_year,
    colleague,
    count,
    counting,
    leave,
    make_staff,
    new_leaflet,
    race,
)


def rows(engine, leaflet_id) -> dict[int, Distribution]:
    with read_session(engine) as s:
        return {
            d.employee_id: d
            for d in s.execute(select(Distribution).where(Distribution.leaflet_id == leaflet_id)).scalars()
        }


def snapshot(engine):
    return (change_events(engine), *(count(engine, m) for m in (Leaflet, LeafletAttachment, Distribution)))


@pytest.fixture
def leader(actors):
    return actors[Role.LEADER]


def test_create_leaflet_with_expected_households(engine, leader):
    staff = make_staff(engine, 4)
    leave(engine, staff[0], D1)
    lid = new_leaflet(engine, leader)
    assert set(rows(engine, lid)) == set(staff[1:])
    assert all(d.expected and d.delivered_on is None for d in rows(engine, lid).values())
    details, households = outreach.get_leaflet(engine, leader, lid)
    assert details["kind"] == "proposal" and details["attachment"] is None and len(households) == 3
    frame = outreach.list_leaflets(engine, leader, YEAR)
    assert frame.loc[0, "expected"] == 3 and frame.loc[0, "delivered"] == 0


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"title": ""}, "title"),
        ({"kind": "poster"}, "kind"),
        ({"copies": -1}, "copies"),
        ({"copies": "2.5"}, "copies"),
        ({"audience": Audience.people([])}, "audience"),
    ],
)
def test_bad_leaflet_input_is_refused(engine, leader, bad, field):
    make_staff(engine, 2)
    kwargs = dict(title="宣传册", kind="brochure", issued_on=D1, copies=10, audience=Audience.all()) | bad
    before = snapshot(engine)
    with pytest.raises(ValidationError) as exc:
        outreach.create_leaflet(engine, leader, **kwargs)
    assert exc.value.field == field and exc.value.translated("zh_CN") != exc.value.msgid
    assert snapshot(engine) == before


def test_roles(engine, actors):
    make_staff(engine, 2)
    for role in (Role.ADMIN, Role.PRINCIPAL, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            new_leaflet(engine, actors[role])
    lid = new_leaflet(engine, actors[Role.LEADER])
    for role in roles_for(UnitKind.SCHOOL):
        outreach.get_leaflet(engine, actors[role], lid)
        outreach.coverage(engine, actors[role], YEAR)
    with pytest.raises(PermissionDenied):
        outreach.attach_pdf(engine, actors[Role.AUDITOR], lid, "a.pdf", PDF)


# ---------------------------------------------------------------- attachment


def test_pdf_attachment_round_trip_and_replace(engine, leader):
    make_staff(engine, 1)
    lid = new_leaflet(engine, leader)
    outreach.attach_pdf(engine, leader, lid, "C:\\Users\\me\\倡议书", PDF)
    assert outreach.get_attachment(engine, leader, lid) == ("倡议书.pdf", PDF)
    second = PDF.replace(b"1.4", b"1.7")
    outreach.attach_pdf(engine, leader, lid, "v2.pdf", second)
    assert outreach.get_attachment(engine, leader, lid) == ("v2.pdf", second)
    assert outreach.list_leaflets(engine, leader, YEAR).loc[0, "attachment"] == "v2.pdf"
    with read_session(engine) as s:
        ev = s.execute(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "leaflet_attachment")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).scalar_one()
    assert ev.action == "update" and json.loads(ev.after)["size"] == len(second)
    outreach.remove_attachment(engine, leader, lid)
    with pytest.raises(NotFound):
        outreach.get_attachment(engine, leader, lid)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"<html><script>alert(1)</script></html>", "not a PDF"),
        (b"MZ\x90\x00 an executable %%EOF", "not a PDF"),
        (b"%PDF-1.4 truncated without trailer", "not a PDF"),
        (b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF", "at most 10 MB"),
    ],
)
def test_bad_attachment_is_refused(engine, leader, data, message):
    make_staff(engine, 1)
    lid = new_leaflet(engine, leader)
    before = snapshot(engine)
    with pytest.raises(ValidationError, match=message):
        outreach.attach_pdf(engine, leader, lid, "x.pdf", data)
    assert snapshot(engine) == before


# ---------------------------------------------------------------- distribution


def test_bulk_receipts_one_event_per_change(engine, leader):
    a, b, c = make_staff(engine, 3)
    lid = new_leaflet(engine, leader)
    before = change_events(engine)
    changed = outreach.record_distributions(
        engine,
        leader,
        lid,
        [
            Mark(a, D1, "door", "配偶 张丽", True),
            Mark(b, D1, "meeting", "本人", False),
            Mark(c, None),
        ],
    ).changed
    assert changed == 2 and change_events(engine) == before + 2
    got = rows(engine, lid)
    assert (got[a].delivered_on, got[a].method, got[a].received_by, got[a].signed) == (D1, "door", "配偶 张丽", True)
    assert got[c].delivered_on is None
    # The same save again changes nothing.
    assert outreach.record_distributions(engine, leader, lid, [Mark(a, D1, "door", "配偶 张丽", True)]) == RowsSaved(0)
    # A correction is one event with before and after.
    outreach.record_distributions(engine, leader, lid, [Mark(b, D1, "meeting", "本人", True)])
    with read_session(engine) as s:
        ev = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (ev.entity_type, ev.household_id, json.loads(ev.before), json.loads(ev.after)) == (
        "distribution",
        b,
        {"signed": False},
        {"signed": True},
    )
    assert reading.verify_chain(engine, admin_of(engine)).ok


def test_bad_receipts_are_refused_and_write_nothing(engine, leader):
    a, b, c = make_staff(engine, 3)
    lid = new_leaflet(engine, leader, audience=Audience.people([a, b]))
    outreach.record_distributions(engine, leader, lid, [Mark(a, D1, "door", "本人", True)])
    before = snapshot(engine), rows(engine, lid)[b].delivered_on
    bad_saves = [
        ([Mark(b, D1, "door", "本人"), Mark(b, D1, "meeting", "本人")], "listed twice"),
        ([Mark(b, D1, "door", "本人"), Mark(999_999, D1, "door", "本人")], "no household"),
        ([Mark(c, D1, "door", "本人")], "not on this leaflet's list"),
        # Tomorrow as of now, not of the import: a run that crosses midnight (Beijing) would make it today.
        ([Mark(b, local_today() + timedelta(days=1), "door", "本人")], "in the future"),
        ([Mark(b, D1 - timedelta(days=1), "door", "本人")], "before the leaflet was issued"),
        ([Mark(b, D1, "pigeon", "本人")], "choose how"),
        ([Mark(b, D1, "door", "  ")], "who received"),
    ]
    for marks, message in bad_saves:
        with pytest.raises(ValidationError, match=message):
            outreach.record_distributions(engine, leader, lid, marks)
    assert (snapshot(engine), rows(engine, lid)[b].delivered_on) == before


def test_targets_keep_reached_households(engine, leader):
    a, b, c = make_staff(engine, 3)
    lid = new_leaflet(engine, leader, audience=Audience.people([a, b]))
    outreach.record_distributions(engine, leader, lid, [Mark(a, D1, "door", "本人", True)])
    result = outreach.set_distribution_targets(engine, leader, lid, Audience.people([c]))
    assert result == {"added": 1, "removed": 2}
    got = rows(engine, lid)
    assert set(got) == {a, c} and got[a].expected is False and got[a].delivered_on == D1
    cov = outreach.coverage(engine, leader, YEAR).iloc[0]
    assert (cov["expected"], cov["delivered"]) == (1, 0)
    outreach.set_distribution_targets(engine, leader, lid, Audience.all())
    assert all(d.expected for d in rows(engine, lid).values()) and len(rows(engine, lid)) == 3


# ---------------------------------------------------------------- coverage


def test_coverage_and_unreached_on_a_hand_made_dataset(engine, leader):
    a, b, c, d = make_staff(engine, 4)  # a, c in 语文组; b, d in 数学组
    l1 = new_leaflet(engine, leader)
    l2 = new_leaflet(engine, leader, audience=Audience.people([a, b]), title="政策法规汇编")
    outreach.record_distributions(
        engine, leader, l1, [Mark(a, D1, "door", "本人", True), Mark(b, D1, "electronic", "本人")]
    )
    outreach.record_distributions(engine, leader, l2, [Mark(a, D1, "meeting", "本人", True)])
    leave(engine, d, D1 + timedelta(days=1))  # left after l1: still counted there, but no longer owed

    by_leaflet = outreach.coverage(engine, leader, YEAR, "leaflet").set_index("leaflet_id")
    assert by_leaflet.loc[l1, ["expected", "delivered", "signed", "not_reached"]].tolist() == [4, 2, 1, 2]
    assert by_leaflet.loc[l1, "coverage"] == 0.5 and by_leaflet.loc[l2, "coverage"] == 0.5
    by_dept = outreach.coverage(engine, leader, YEAR, "department").set_index("department")
    assert by_dept.loc["语文组", ["expected", "delivered"]].tolist() == [3, 2]
    assert by_dept.loc["数学组", ["expected", "delivered"]].tolist() == [3, 1]
    unreached = outreach.unreached_households(engine, leader, YEAR)
    assert sorted(zip(unreached["leaflet_id"], unreached["employee_id"], strict=True)) == sorted([(l1, c), (l2, b)])
    assert list(outreach.unreached_households(engine, leader, YEAR, l2)["employee_id"]) == [b]
    assert outreach.coverage(engine, leader, YEAR - 1).empty


def test_coverage_is_one_query(engine, leader):
    make_staff(engine, 30)
    new_leaflet(engine, leader)
    for by in ("leaflet", "department"):
        with counting(engine) as statements:
            outreach.coverage(engine, leader, YEAR, by)
        assert len([s for s in statements if "distribution" in s.lower()]) == 1


def test_receipt_list_and_coverage_workbooks(engine, leader):
    a, b = make_staff(engine, 2)
    lid = new_leaflet(engine, leader)
    outreach.record_distributions(engine, leader, lid, [Mark(a, D1, "door", "配偶 张丽", True)])
    sheet = openpyxl.load_workbook(io.BytesIO(outreach.receipt_list_xlsx(engine, leader, lid, "zh_CN"))).worksheets[0]
    assert "测试实验小学" in sheet["A1"].value and "签收表" in sheet["A1"].value
    assert "致全体教职工家庭的一封信" in sheet["A2"].value
    assert [c.value for c in sheet[4]] == ["序号", "部门", "工号", "姓名", "发放日期", "发放方式", "签收人", "签名"]
    assert sheet.max_row == 6 and sheet.print_title_rows == "$4:$4"
    with read_session(engine) as s:
        a_no = s.get(Employee, a).staff_no
    row = next(r for r in sheet.iter_rows(min_row=5, values_only=True) if r[2] == a_no)
    assert row[4:] == (D1.isoformat(), "到户", "配偶 张丽", "已签收")
    book = openpyxl.load_workbook(io.BytesIO(outreach.coverage_xlsx(engine, leader, YEAR, "zh_CN")))
    assert book.sheetnames == ["按宣传资料", "按部门", "未发放到户"]
    assert book["未发放到户"].max_row == 2


def test_edit_leaflet(engine, leader):
    make_staff(engine, 1)
    lid = new_leaflet(engine, leader)
    assert outreach.update_leaflet(engine, leader, lid, 1, copies=80, kind="brochure") == 2
    with pytest.raises(StaleVersion, match="after you opened it"):
        outreach.update_leaflet(engine, leader, lid, 1, copies=1)
    with pytest.raises(ValidationError):
        outreach.update_leaflet(engine, leader, lid, 2, copies="many")
    details, _ = outreach.get_leaflet(engine, leader, lid)
    assert (details["copies"], details["kind"]) == (80, "brochure")


def test_delete_leaflet_only_while_no_household_is_reached(engine, leader):
    staff = make_staff(engine, 3)
    lid = new_leaflet(engine, leader)
    outreach.attach_pdf(engine, leader, lid, "a.pdf", PDF)
    reached = new_leaflet(engine, leader, title="已发放")
    outreach.record_distributions(engine, leader, reached, [Mark(staff[0], D1, "door", "本人", True)])
    with pytest.raises(ValidationError, match="1 households have already received"):
        outreach.delete_leaflet(engine, leader, reached, 1)
    with pytest.raises(PermissionDenied):
        outreach.delete_leaflet(engine, admin_of(engine), lid, 1)
    with pytest.raises(StaleVersion, match="after you opened it"):
        outreach.delete_leaflet(engine, leader, lid, 9)
    before = snapshot(engine)
    outreach.delete_leaflet(engine, leader, lid, 1)
    assert snapshot(engine) == (before[0] + 1, before[1] - 1, before[2] - 1, before[3] - 3)
    with read_session(engine) as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (last.action, last.entity_type, last.entity_id) == ("delete", "leaflet", str(lid))
    assert json.loads(last.details)["attachment"]["filename"] == "a.pdf"
    with pytest.raises(NotFound):
        outreach.get_leaflet(engine, leader, lid)


def test_moving_the_issue_date_after_a_delivery_is_refused(engine, leader):
    staff = make_staff(engine, 2)
    lid = new_leaflet(engine, leader)
    outreach.record_distributions(engine, leader, lid, [Mark(staff[0], D1, "door", "本人", True)])
    with pytest.raises(ValidationError, match="before the new issue date"):
        outreach.update_leaflet(engine, leader, lid, 1, issued_on=D1 + timedelta(days=1))


def test_a_signed_off_year_refuses_every_leaflet_write(engine, actors, leader):
    from services.core.yearlock import YearLocked

    staff = make_staff(engine, 3)
    lid = new_leaflet(engine, leader)
    outreach.attach_pdf(engine, leader, lid, "a.pdf", PDF)
    close_year(engine, actors[Role.PRINCIPAL], YEAR)
    before = snapshot(engine)
    writes = [
        lambda: new_leaflet(engine, leader),
        lambda: outreach.update_leaflet(engine, leader, lid, 1, title="改"),
        lambda: outreach.attach_pdf(engine, leader, lid, "b.pdf", PDF),
        lambda: outreach.remove_attachment(engine, leader, lid),
        lambda: outreach.set_distribution_targets(engine, leader, lid, Audience.people(staff[:1])),
        lambda: outreach.record_distributions(engine, leader, lid, [Mark(staff[0], D1, "door", "本人", True)]),
        lambda: outreach.delete_leaflet(engine, leader, lid, 1),
    ]
    for write in writes:
        with pytest.raises(YearLocked, match=f"{YEAR} has been signed off"):
            write()
    assert snapshot(engine) == before
    assert count(engine, AuditEvent, AuditEvent.action == "year_locked_refused") == len(writes)
    assert not any(r.delivered_on for r in rows(engine, lid).values())


# ---------------------------------------------------------------- moving the issue date

Y0 = YEAR - 1  # a past, open year: every date in it may carry a delivery


def moved_events(engine, lid) -> list[AuditEvent]:
    """The events of the leaflet's last change, oldest first."""
    with read_session(engine) as s:
        last = s.execute(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "leaflet", AuditEvent.entity_id == str(lid))
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).scalar_one()
        return list(s.execute(select(AuditEvent).where(AuditEvent.id >= last.id).order_by(AuditEvent.id)).scalars())


def test_moving_the_issue_date_recomputes_the_households_not_yet_reached(engine, leader):
    from datetime import date

    a, b, c = make_staff(engine, 3)
    leave(engine, c, date(Y0, 6, 1))
    [d] = make_staff(engine, 1, hire_date=date(Y0, 7, 1))
    lid = new_leaflet(engine, leader, issued_on=date(Y0, 3, 1))
    assert set(rows(engine, lid)) == {a, b, c}
    outreach.record_distributions(engine, leader, lid, [Mark(a, date(Y0, 9, 1), "door", "本人", True)])

    assert outreach.update_leaflet(engine, leader, lid, 1, issued_on=date(Y0, 8, 1)) == 2
    now = rows(engine, lid)
    assert set(now) == {a, b, d}  # c left before the new date, d joined between the two dates
    assert now[a].delivered_on == date(Y0, 9, 1) and now[a].signed and now[a].received_by == "本人"
    assert now[d].expected and now[d].delivered_on is None
    frame = outreach.list_leaflets(engine, leader, Y0)
    assert (frame.loc[0, "expected"], frame.loc[0, "delivered"]) == (3, 1)
    events = moved_events(engine, lid)
    assert [(e.action, e.entity_type, e.entity_id) for e in events] == [
        ("update", "leaflet", str(lid)),
        ("update", "distribution", f"{lid}:{d}"),
        ("update", "distribution", f"{lid}:{c}"),
    ]
    assert json.loads(events[0].after) == {"issued_on": date(Y0, 8, 1).isoformat()}
    assert (json.loads(events[1].after), events[1].before) == ({"expected": True}, None)
    assert (json.loads(events[2].before), events[2].after) == ({"expected": True}, None)
    assert json.loads(events[2].details) == {"leaflet": lid, "issued_on": date(Y0, 8, 1).isoformat()}
    assert events[2].household_id == c
    assert reading.verify_chain(engine, admin_of(engine)).ok

    # And back: d was not yet hired, c was still there.
    assert outreach.update_leaflet(engine, leader, lid, 2, issued_on=date(Y0, 3, 1)) == 3
    assert set(rows(engine, lid)) == {a, b, c}
    assert rows(engine, lid)[a].delivered_on == date(Y0, 9, 1)


def test_moving_keeps_the_leaflet_s_audience(engine, leader):
    from datetime import date

    from models import Department

    a, b = make_staff(engine, 2)  # a in 语文组, b in 数学组
    new_chinese, new_maths = make_staff(engine, 2, hire_date=date(Y0, 7, 1))
    with read_session(engine) as s:
        chinese = s.execute(select(Department.id).where(Department.name == "语文组")).scalar_one()
    by_department = new_leaflet(engine, leader, issued_on=date(Y0, 3, 1), audience=Audience.departments([chinese]))
    by_name = new_leaflet(engine, leader, issued_on=date(Y0, 3, 1), audience=Audience.people([a, b]), title="点名发放")
    outreach.update_leaflet(engine, leader, by_department, 1, issued_on=date(Y0, 8, 1))
    outreach.update_leaflet(engine, leader, by_name, 1, issued_on=date(Y0, 8, 1))
    assert set(rows(engine, by_department)) == {a, new_chinese}
    assert set(rows(engine, by_name)) == {a, b}  # a list of people gains nobody


def test_moving_leaves_a_household_taken_off_by_hand_as_it_is(engine, leader):
    from datetime import date

    a, b, c = make_staff(engine, 3)
    lid = new_leaflet(engine, leader, issued_on=date(Y0, 3, 1))
    outreach.record_distributions(engine, leader, lid, [Mark(a, date(Y0, 9, 1), "meeting", "本人")])
    outreach.set_distribution_targets(engine, leader, lid, Audience.people([b]))  # a reached, then taken off; c off
    before = rows(engine, lid)
    assert (before[a].expected, set(before)) == (False, {a, b})
    outreach.update_leaflet(engine, leader, lid, 2, issued_on=date(Y0, 8, 1))
    after = rows(engine, lid)
    assert set(after) == {a, b} and not after[a].expected and after[a].delivered_on == date(Y0, 9, 1)


def test_a_move_that_would_leave_nobody_is_refused_and_writes_nothing(engine, leader):
    from datetime import date

    [a] = make_staff(engine, 1)
    leave(engine, a, date(Y0, 6, 1))
    lid = new_leaflet(engine, leader, issued_on=date(Y0, 3, 1))
    before = snapshot(engine), rows(engine, lid).keys()
    with pytest.raises(ValidationError, match="No household would be on this leaflet's list") as err:
        outreach.update_leaflet(engine, leader, lid, 1, issued_on=date(Y0, 8, 1))
    assert err.value.field == "issued_on"
    assert (snapshot(engine), rows(engine, lid).keys()) == before
    details, _ = outreach.get_leaflet(engine, leader, lid)
    assert details["issued_on"] == date(Y0, 3, 1) and details["version"] == 1


def test_moving_a_leaflet_checks_both_years_are_open(engine, actors, leader):
    from datetime import date

    from services.core.yearlock import YearLocked

    make_staff(engine, 2)
    lid = new_leaflet(engine, leader, issued_on=date(Y0, 3, 1))
    close_year(engine, actors[Role.PRINCIPAL], YEAR)
    before = snapshot(engine)
    with pytest.raises(YearLocked, match=f"{YEAR} has been signed off"):  # into a signed-off year
        outreach.update_leaflet(engine, leader, lid, 1, issued_on=D1)
    assert snapshot(engine) == before
    old = new_leaflet(engine, leader, issued_on=date(Y0 - 1, 3, 1), title="前年")
    close_year(engine, actors[Role.PRINCIPAL], Y0 - 1)
    before = snapshot(engine)
    with pytest.raises(YearLocked, match=f"{Y0 - 1} has been signed off"):  # out of one
        outreach.update_leaflet(engine, leader, old, 1, issued_on=date(Y0, 3, 1))
    assert snapshot(engine) == before


# ---------------------------------------------------------------- receipts saved per row


def _view_versions(engine, leader, lid) -> dict[int, int]:
    _, view = outreach.get_leaflet(engine, leader, lid)
    return {int(e): int(v) for e, v in zip(view["employee_id"], view["version"], strict=True)}


def test_receipts_based_on_an_older_view_keep_the_rows_changed_since_and_save_the_others(engine, actors, leader):
    a, b, c = make_staff(engine, 3)
    lid = new_leaflet(engine, leader)
    other = colleague(engine, actors)
    view = _view_versions(engine, leader, lid)  # both open the receipts
    first = outreach.record_distributions(
        engine, other, lid, [Mark(a, D1, "door", "配偶 张丽", True, based_on=view[a])]
    )
    assert first == RowsSaved(1)
    saved = outreach.record_distributions(
        engine,
        leader,
        lid,
        [Mark(a, D1, "meeting", "本人", False, based_on=view[a]), Mark(b, D1, "door", "本人", True, based_on=view[b])],
    )
    got = rows(engine, lid)
    assert [(r.employee_id, r.who, r.when) for r in saved.refused] == [(a, "陈干事", got[a].marked_at)]
    assert saved.changed == 1
    assert (got[a].method, got[a].received_by, got[a].marked_by) == ("door", "配偶 张丽", "leader2")  # not overwritten
    assert (got[b].method, got[b].marked_by, got[c].delivered_on) == ("door", "leader", None)
    assert (got[a].version, got[b].version, got[c].version) == (2, 2, 1)


def test_two_receipt_saves_racing_from_the_same_view_lose_no_receipt(engine, actors, leader, monkeypatch):
    a, b, c = make_staff(engine, 3)
    other = colleague(engine, actors)
    for n in range(2):
        lid = new_leaflet(engine, leader, title=f"第{n}份")
        view = _view_versions(engine, leader, lid)
        wants = {
            leader.username: [Mark(a, D1, "door", "本人", True, view[a]), Mark(b, D1, "door", "本人", True, view[b])],
            other.username: [
                Mark(a, D1, "meeting", "配偶", False, view[a]),
                Mark(c, D1, "door", "本人", True, view[c]),
            ],
        }
        results = race(
            engine,
            [
                lambda u=u, i=lid, w=wants: outreach.record_distributions(engine, u, i, w[u.username])
                for u in (leader, other)
            ],
            meet=(outreach, "ensure_year_open"),
            monkeypatch=monkeypatch,
        )
        assert all(isinstance(r, RowsSaved) for r in results), results
        won = [i for i, r in enumerate(results) if not r.refused]
        assert len(won) == 1, results
        winner = (leader, other)[won[0]]
        assert [(r.employee_id, r.who) for r in results[1 - won[0]].refused] == [(a, winner.display_name)]
        got = rows(engine, lid)
        assert got[a].method == wants[winner.username][0].method and got[a].marked_by == winner.username
        assert got[b].delivered_on == D1 and got[c].delivered_on == D1
