"""The year's figures (the 汇总 sheet of the district report, spec district-report.md).

One source for every number the district report, the work summary and the
compliance page show for assessment year Y, so they can never disagree.

Definitions (all set-based: six aggregate statements whatever the number of staff):

- staff in post: on 31 Dec Y (`training.in_post_on`); their family members,
  their children born in Y (relation `child`, birth date in Y; boys `M`,
  girls `F`), and those of them holding the only-child parents' certificate
  (a certificate number is recorded).
- sessions: original study sessions held in Y up to today (make-up sessions
  are not counted again: attending one turns the original's absence into
  `made_up`, exactly as `training.attendance_rates` counts).  Expected
  person-times count an attendance while its person was in post on the
  session's day; attended = present + made_up.
- leaflets issued in Y; households expected / delivered / delivered and
  signed, counted as `outreach.coverage` does (expected, in post on the issue day).
- cases in force: state confirmed or under_appeal with assessment year Y.
  Ever confirmed: decision confirmed (whatever happened since).
- blocked: distinct staff with a case in force blocking Y (the unit's
  sanction window, `eligibility.in_force_for`).  Pay withheld: every
  incentive-pay line of Y whose staff member is blocked in Y.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.engine import Connection, Engine

from models import (
    Attendance,
    BonusLine,
    Distribution,
    Employee,
    FamilyMember,
    Leaflet,
    TrainingSession,
    ViolationCase,
)
from services.audit.access import authorize
from services.core.formatting import local_today
from services.core.permissions import Actor, Permission
from services.ledger.eligibility import IN_FORCE_STATES, blocked_exists, in_force_for
from services.ledger.roster import in_post_on

# What a rate with nothing to count shows (0 of 0): an em dash, never "0.0%"
# (which would read as "nobody came") nor "100.0%".
NO_RATE = "—"


def percent_text(numerator: int, denominator: int) -> str:
    """`964, 1000` -> `"96.4%"`: one decimal, rounded half up; `0/0` -> `"—"` (NO_RATE)."""
    if not denominator:
        return NO_RATE
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value}%"


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def in_post_during(year: int) -> ColumnElement[bool]:
    """On the staff on at least one day of `year`: hired by 31 Dec and not gone before 1 Jan."""
    first, last = year_bounds(year)
    return and_(
        or_(Employee.hire_date.is_(None), Employee.hire_date <= last),
        or_(
            and_(Employee.status == "active", or_(Employee.left_on.is_(None), Employee.left_on > first)),
            and_(Employee.status != "active", Employee.left_on.is_not(None), Employee.left_on > first),
        ),
    )


def _n(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class YearFigures:
    """Every number of the 汇总 sheet for one assessment year, plus the few the
    work summary quotes (absences, appeals).  Amounts are integer fen."""

    year: int
    # The day the figures are stated as of: the year's last day, or while the year runs the day they
    # were worked out (sessions after it are not counted yet).  Staff in post are those on 31 Dec, as
    # ../shared/spec/district-report.md defines 在职职工数, as the ledger stands on this day.
    as_of: date
    staff_in_post: int
    family_members: int
    children_born: int
    boys_born: int
    girls_born: int
    certificate_holders: int
    sessions_held: int
    expected_attendance: int  # 应参训人次
    present: int
    made_up: int
    absent: int
    excused: int
    leaflets_issued: int
    households_expected: int
    households_delivered: int
    households_signed: int
    cases_in_force: int  # 违规确认件数
    cases_ever_confirmed: int
    cases_under_appeal: int
    appeals_upheld: int
    appeals_overturned: int
    cases_revoked: int
    staff_blocked: int  # 取消评优资格人数
    staff_pay_withheld: int  # 扣发奖励性工资人数
    withheld_fen: int  # 扣发金额合计, fen

    @property
    def attended(self) -> int:  # 实参训人次
        return self.present + self.made_up

    @property
    def attendance_rate_text(self) -> str:
        return percent_text(self.attended, self.expected_attendance)

    @property
    def absences_not_made_up(self) -> int:
        """Person-times still missing (absent or excused, not made up)."""
        return self.absent + self.excused

    @property
    def households_not_reached(self) -> int:
        return self.households_expected - self.households_delivered

    @property
    def coverage_text(self) -> str:
        return percent_text(self.households_delivered, self.households_expected)

    @property
    def withheld_yuan(self) -> Decimal:
        return (Decimal(self.withheld_fen) / 100).quantize(Decimal("0.01"))


def year_figures(conn: Connection, year: int, *, today: date | None = None) -> YearFigures:
    """The figures of `year` in six aggregate statements (no authorisation: callers check).

    `today` bounds the sessions counted (default: the local today), so a
    report of the running year counts only sessions already held.
    """
    first, last = year_bounds(year)
    today = today or local_today()
    as_of = min(today, last)
    in_post = in_post_on(last)

    staff_in_post = select(func.count()).select_from(Employee).where(in_post).scalar_subquery()
    child_born = and_(
        FamilyMember.relation == "child", FamilyMember.birth_date >= first, FamilyMember.birth_date <= last
    )
    family = (
        select(
            func.count().label("members"),
            _n(child_born).label("children"),
            _n(and_(child_born, FamilyMember.gender == "M")).label("boys"),
            _n(and_(child_born, FamilyMember.gender == "F")).label("girls"),
        )
        .select_from(FamilyMember)
        .join(Employee, Employee.id == FamilyMember.employee_id)
        .where(in_post)
    )
    certificates = (
        select(func.count())
        .select_from(Employee)
        .where(in_post, Employee.only_child_certificate_no.is_not(None), Employee.only_child_certificate_no != "")
        .scalar_subquery()
    )
    staff_row = conn.execute(select(staff_in_post.label("staff"), certificates.label("certificates"))).one()
    family_row = conn.execute(family).one()

    counted = in_post_on(TrainingSession.held_on)
    held = and_(
        TrainingSession.held_on >= first,
        TrainingSession.held_on <= last,
        TrainingSession.held_on <= today,
        TrainingSession.makeup_of_id.is_(None),
    )
    sessions = select(func.count()).select_from(TrainingSession).where(held).correlate(None).scalar_subquery()
    attendance = (
        select(
            sessions.label("sessions"),
            _n(and_(counted, Attendance.status.in_(("expected", "present", "absent", "excused", "made_up")))).label(
                "expected"
            ),
            _n(and_(counted, Attendance.status == "present")).label("present"),
            _n(and_(counted, Attendance.status == "made_up")).label("made_up"),
            _n(and_(counted, Attendance.status == "absent")).label("absent"),
            _n(and_(counted, Attendance.status == "excused")).label("excused"),
        )
        .select_from(Attendance)
        .join(TrainingSession, and_(TrainingSession.id == Attendance.session_id, held))
        .join(Employee, Employee.id == Attendance.employee_id)
    )
    att = conn.execute(attendance).one()

    issued = and_(Leaflet.issued_on >= first, Leaflet.issued_on <= last)
    leaflets = select(func.count()).select_from(Leaflet).where(issued).correlate(None).scalar_subquery()
    reach = and_(Distribution.expected, in_post_on(Leaflet.issued_on))
    delivered = and_(reach, Distribution.delivered_on.is_not(None))
    outreach = (
        select(
            leaflets.label("leaflets"),
            _n(reach).label("expected"),
            _n(delivered).label("delivered"),
            _n(and_(delivered, Distribution.signed)).label("signed"),
        )
        .select_from(Distribution)
        .join(Leaflet, and_(Leaflet.id == Distribution.leaflet_id, issued))
        .join(Employee, Employee.id == Distribution.employee_id)
    )
    out = conn.execute(outreach).one()

    blocked = (
        select(func.count(distinct(ViolationCase.employee_id)))
        .where(in_force_for(year))
        .correlate(None)
        .scalar_subquery()
    )
    cases = select(
        _n(ViolationCase.state.in_(IN_FORCE_STATES)).label("in_force"),
        _n(ViolationCase.decision == "confirmed").label("ever_confirmed"),
        _n(ViolationCase.state == "under_appeal").label("under_appeal"),
        _n(ViolationCase.appeal_result == "upheld").label("upheld"),
        _n(ViolationCase.appeal_result == "overturned").label("overturned"),
        _n(ViolationCase.state == "revoked").label("revoked"),
        blocked.label("blocked"),
    ).where(ViolationCase.year == year)
    # Cases of earlier years can block Y too: the uncorrelated subquery counts them.
    case_row = conn.execute(cases).one()

    pay = conn.execute(
        select(
            func.count(distinct(BonusLine.employee_id)).label("people"),
            func.coalesce(func.sum(BonusLine.amount_fen), 0).label("fen"),
        ).where(BonusLine.year == year, blocked_exists(year, BonusLine.employee_id))
    ).one()

    return YearFigures(
        year=year,
        as_of=as_of,
        staff_in_post=int(staff_row.staff),
        family_members=int(family_row.members),
        children_born=int(family_row.children),
        boys_born=int(family_row.boys),
        girls_born=int(family_row.girls),
        certificate_holders=int(staff_row.certificates),
        sessions_held=int(att.sessions or 0),
        expected_attendance=int(att.expected),
        present=int(att.present),
        made_up=int(att.made_up),
        absent=int(att.absent),
        excused=int(att.excused),
        leaflets_issued=int(out.leaflets or 0),
        households_expected=int(out.expected),
        households_delivered=int(out.delivered),
        households_signed=int(out.signed),
        cases_in_force=int(case_row.in_force),
        cases_ever_confirmed=int(case_row.ever_confirmed),
        cases_under_appeal=int(case_row.under_appeal),
        appeals_upheld=int(case_row.upheld),
        appeals_overturned=int(case_row.overturned),
        cases_revoked=int(case_row.revoked),
        staff_blocked=int(case_row.blocked or 0),
        staff_pay_withheld=int(pay.people),
        withheld_fen=int(pay.fen),
    )


def get_year_figures(engine: Engine, actor: Actor, year: int) -> YearFigures:
    """The figures for a page: `year_figures` behind the RUN_REPORTS check."""
    authorize(engine, actor, Permission.RUN_REPORTS, "year figures")
    with engine.connect() as conn:
        return year_figures(conn, year)
