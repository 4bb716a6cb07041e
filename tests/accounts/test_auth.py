"""Accounts: argon2id hashes, password policy, login and lock-out, account
administration, own password, idle sessions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from models import AuditEvent, User
from services.accounts import auth
from services.core.db import read_session
from services.core.errors import AuthError, PermissionDenied, ValidationError
from services.core.permissions import Role
from tests.conftest import STRONG_PASSWORD

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OTHER_PASSWORD = "Spring-Orchard-77"


def _user(engine, username: str) -> User:
    with read_session(engine) as s:
        return s.execute(select(User).where(User.username == username)).scalar_one()


def _user_count(engine) -> int:
    with read_session(engine) as s:
        return s.execute(select(func.count()).select_from(User)).scalar_one()


def _last_event_id(engine) -> int:
    with read_session(engine) as s:
        return s.execute(select(func.max(AuditEvent.id))).scalar_one() or 0


def _events_after(engine, event_id: int) -> list[AuditEvent]:
    with read_session(engine) as s:
        return s.execute(select(AuditEvent).where(AuditEvent.id > event_id).order_by(AuditEvent.id)).scalars().all()


def _details(event: AuditEvent) -> dict:
    return json.loads(event.details) if event.details else {}


# ---------------------------------------------------------------- hashes and policy


def test_hashes_are_argon2id():
    digest = auth.hash_password(STRONG_PASSWORD)
    assert digest.startswith("$argon2id$")
    assert STRONG_PASSWORD not in digest
    assert PasswordHasher().verify(digest, STRONG_PASSWORD)
    # Salted: the same password never hashes the same twice.
    assert auth.hash_password(STRONG_PASSWORD) != digest


def test_stored_account_holds_an_argon2id_hash_not_the_password(engine, actors):
    for username in ("admin", "leader"):
        stored = _user(engine, username).password_hash
        assert stored.startswith("$argon2id$")
        assert STRONG_PASSWORD not in stored
        assert PasswordHasher().verify(stored, STRONG_PASSWORD)


@pytest.mark.parametrize(
    ("password", "username", "msgid_start"),
    [
        ("Ab1-xyz", "", "The password must have at least"),  # 7 characters
        ("", "", "The password must have at least"),
        ("12345678", "", "This password is too common"),
        ("password123", "", "This password is too common"),
        ("PASSWORD123", "", "This password is too common"),  # case does not help
        ("aaaaaaaaaaaa", "", "This password is too common"),  # one repeated character
        ("wangfang-2026!", "wangfang", "The password must not contain the username"),
        ("My-WangFang-Key9", "wangfang", "The password must not contain the username"),
    ],
)
def test_password_policy_refuses_weak_passwords(password, username, msgid_start):
    with pytest.raises(ValidationError) as info:
        auth.check_password_policy(password, username)
    assert info.value.msgid.startswith(msgid_start)
    assert info.value.field == "password"


@pytest.mark.parametrize("password", [STRONG_PASSWORD, "青山-绿水-2026", "correct horse battery"])
def test_password_policy_accepts_good_passwords(password):
    assert auth.check_password_policy(password, "wangfang") is None


def test_weak_password_creates_no_account_and_no_event(engine, actors):
    users, last = _user_count(engine), _last_event_id(engine)
    with pytest.raises(ValidationError):
        auth.create_user(engine, actors[Role.ADMIN], "clerk", "文员", Role.AUDITOR, "password123")
    with pytest.raises(ValidationError):
        auth.create_user(engine, actors[Role.ADMIN], "clerk", "文员", Role.AUDITOR, "clerk-2026-spring")
    assert _user_count(engine) == users
    assert _events_after(engine, last) == []


def test_bad_usernames_are_refused(engine, actors):
    users = _user_count(engine)
    for username in ["ab", "has space", "王老师", "x" * 51, ""]:
        with pytest.raises(ValidationError) as info:
            auth.create_user(engine, actors[Role.ADMIN], username, "某人", Role.AUDITOR, OTHER_PASSWORD)
        assert info.value.field == "username", username
    assert _user_count(engine) == users


# ---------------------------------------------------------------- login


def test_login_returns_the_actor_and_is_audited(engine, actors):
    last = _last_event_id(engine)
    actor = auth.authenticate(engine, "leader", STRONG_PASSWORD, now=T0)
    assert (actor.username, actor.role, actor.display_name) == ("leader", Role.LEADER, "王分管")
    assert _user(engine, "leader").last_login_at == T0
    events = _events_after(engine, last)
    assert [(e.action, e.actor_name, e.entity_id) for e in events] == [("login", "leader", str(actor.id))]


def test_login_ignores_username_case_and_surrounding_spaces(engine, actors):
    assert auth.authenticate(engine, "  LEADER ", STRONG_PASSWORD).username == "leader"


def test_successful_login_resets_the_failed_count(engine, actors):
    for i in range(4):
        with pytest.raises(AuthError):
            auth.authenticate(engine, "leader", "wrong-one", now=T0 + timedelta(seconds=i))
    assert _user(engine, "leader").failed_logins == 4
    auth.authenticate(engine, "leader", STRONG_PASSWORD, now=T0 + timedelta(seconds=5))
    assert _user(engine, "leader").failed_logins == 0
    # Four more failures after the reset do not lock: the count started again.
    for i in range(4):
        with pytest.raises(AuthError):
            auth.authenticate(engine, "leader", "wrong-two", now=T0 + timedelta(seconds=10 + i))
    assert auth.authenticate(engine, "leader", STRONG_PASSWORD, now=T0 + timedelta(seconds=20)).username == "leader"


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(engine, actors):
    last = _last_event_id(engine)
    for i in range(5):
        with pytest.raises(AuthError) as info:
            auth.authenticate(engine, "leader", f"wrong-{i}", now=T0)
        # The fifth answer is the same as the first four: it does not tell the name is an account.
        assert info.value.msgid == auth.SIGN_IN_REFUSED
    assert _user(engine, "leader").locked_until == T0 + timedelta(minutes=15)

    # Locked: the right password is refused, up to the last second, with the same answer.
    for moment in (T0 + timedelta(seconds=1), T0 + timedelta(minutes=15) - timedelta(seconds=1)):
        with pytest.raises(AuthError) as info:
            auth.authenticate(engine, "leader", STRONG_PASSWORD, now=moment)
        assert info.value.msgid == auth.SIGN_IN_REFUSED

    actor = auth.authenticate(engine, "leader", STRONG_PASSWORD, now=T0 + timedelta(minutes=15, seconds=1))
    assert actor.username == "leader"
    user = _user(engine, "leader")
    assert user.locked_until is None and user.failed_logins == 0

    events = _events_after(engine, last)
    failed = [e for e in events if e.action == "login_failed"]
    assert len(failed) == 7  # five wrong passwords, two attempts while locked
    assert all(e.actor_name == "leader" and e.entity_type == "user" for e in failed)
    reasons = [_details(e)["reason"] for e in failed]
    assert reasons == ["wrong_password"] * 5 + ["locked"] * 2
    assert [_details(e)["failed_logins"] for e in failed[:5]] == [1, 2, 3, 4, 5]
    # The lock itself is on record, with its end: the administrator sees it, the guesser does not.
    assert "locked_until" not in _details(failed[3])
    assert datetime.fromisoformat(_details(failed[4])["locked_until"]) == T0 + timedelta(minutes=15)
    assert events[-1].action == "login"
    # What was typed is never kept.
    assert not any("wrong-" in (e.details or "") for e in events)


def _refusal(engine, username, password, now=T0):
    with pytest.raises(AuthError) as info:
        auth.authenticate(engine, username, password, now=now)
    return info.value


def test_a_refused_sign_in_never_tells_whether_the_name_is_an_account_or_locked(engine, actors):
    """Probe: a known account said "locked until ..." on the 5th try, an unknown name never did."""
    known = [_refusal(engine, "leader", f"guess-{i}") for i in range(5)]
    unknown = [_refusal(engine, "no-such-person", f"guess-{i}") for i in range(5)]
    locked_right_password = _refusal(engine, "leader", STRONG_PASSWORD, now=T0 + timedelta(minutes=1))
    auth.set_active(engine, actors[Role.ADMIN], actors[Role.PRINCIPAL].id, False)
    disabled_wrong_password = _refusal(engine, "principal", "guess-x")
    answers = {
        (e.msgid, tuple(sorted(e.params.items())), e.translated("zh_CN"), e.translated("en"))
        for e in [*known, *unknown, locked_right_password, disabled_wrong_password]
    }
    assert len(answers) == 1, answers
    [(_msgid, _params, chinese, english)] = answers
    assert "用户名或密码错误" in chinese and "锁定" in chinese  # the rule is stated, not the state
    assert "until" not in english and "2026" not in english
    assert _user(engine, "leader").locked_until is not None  # the lock itself still works


def test_refusals_take_the_same_time(engine, actors):
    """Unknown name, wrong password, locked account: one argon2 verification
    each.  The fastest of a few tries of each, compared with each other with a
    generous factor (never a wall-clock limit)."""
    import time

    for i in range(5):
        _refusal(engine, "principal", f"lock-it-{i}")  # principal is now locked

    # The kinds take turns and each is its fastest try: the suite's other worker (a browser
    # journey) loads the two cores in bursts, which a mean of tries made one after another
    # charged to whichever kind it fell on (0.35 s against 0.12 s once); a real difference
    # in the work done shows in every try, so in the fastest too.
    kinds = {
        "unknown": ("no-such-person", "whatever-1"),
        "wrong": ("leader", "whatever-2"),  # four wrong tries: not yet locked
        "locked": ("principal", STRONG_PASSWORD),
    }
    took: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(4):
        for kind, (username, password) in kinds.items():
            start = time.perf_counter()
            _refusal(engine, username, password, now=T0 + timedelta(minutes=1))
            took[kind].append(time.perf_counter() - start)
    unknown, wrong, locked = (min(took[kind]) for kind in kinds)
    # One dummy verification of a hash made with the same parameters: a real one.
    assert auth._hasher.check_needs_rehash(auth._DUMMY_HASH) is False
    slowest, fastest = max(unknown, wrong, locked), min(unknown, wrong, locked)
    assert slowest < 3 * fastest, (unknown, wrong, locked)


def test_an_unknown_name_is_recorded_as_a_keyed_digest_never_as_typed(engine, actors):
    """Probe: a password typed into the user-name box was stored as the actor's
    name and offered in the audit page's filter."""
    from services.audit import reading, trail

    typed = "Quiet-Ledger-2026!"  # someone's password, in the name box
    last = _last_event_id(engine)
    _refusal(engine, typed, "x")
    _refusal(engine, "  " + typed.upper() + " ", "y")  # names are compared without case or spaces
    _refusal(engine, "another-name", "z")
    events = _events_after(engine, last)
    assert [e.action for e in events] == ["login_failed"] * 3
    for e in events:
        stored = " ".join(str(v) for v in (e.actor_name, e.details, e.before, e.after, e.entity_id))
        assert typed.lower() not in stored.lower()
        assert e.actor_id is None and _details(e) == {"reason": "unknown_user"}
    names = [e.actor_name for e in events]
    assert all(n.startswith(trail.UNKNOWN_ACCOUNT) and len(n) == len(trail.UNKNOWN_ACCOUNT) + 8 for n in names)
    assert names[0] == names[1] != names[2]  # the same name is recognisable, without being readable
    offered = reading.distinct_values(engine, actors[Role.ADMIN])["actor_name"]
    assert not any(typed.lower() in n.lower() for n in offered)
    assert names[0] in offered
    frame, total = reading.list_events(engine, actors[Role.ADMIN], actor_name=names[0])
    assert total == 2


def test_raw_names_recorded_before_pseudonyms_are_not_offered_in_the_filter(engine, actors):
    from services.audit import reading, trail
    from services.core.db import write_session

    with write_session(engine) as s:  # as the old sign-in recorded an unknown name
        trail.record(s, None, "login_failed", actor_name="My-Secret-Pass-1", details={"reason": "unknown_user"})
    offered = reading.distinct_values(engine, actors[Role.ADMIN])["actor_name"]
    assert "My-Secret-Pass-1" not in offered
    assert {"admin", "setup"} <= set(offered)


def test_lock_is_per_account(engine, actors):
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(engine, "leader", "nope-nope", now=T0)
    assert auth.authenticate(engine, "principal", STRONG_PASSWORD, now=T0).username == "principal"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(engine, actors):
    last = _last_event_id(engine)
    with pytest.raises(AuthError) as unknown:
        auth.authenticate(engine, "nobody", STRONG_PASSWORD)
    with pytest.raises(AuthError) as wrong:
        auth.authenticate(engine, "leader", "not-the-password")
    assert unknown.value.msgid == wrong.value.msgid == auth.SIGN_IN_REFUSED
    assert str(unknown.value) == str(wrong.value)
    assert unknown.value.translated("zh_CN") == wrong.value.translated("zh_CN")
    first = _events_after(engine, last)[0]
    assert (first.action, first.actor_id) == ("login_failed", None)
    assert first.actor_name.startswith("未知账户 #") and "nobody" not in first.actor_name
    assert _details(first)["reason"] == "unknown_user"


def test_disabled_account_is_refused_even_with_the_right_password(engine, actors):
    leader_id = actors[Role.LEADER].id
    auth.set_active(engine, actors[Role.ADMIN], leader_id, False)
    last = _last_event_id(engine)
    with pytest.raises(AuthError) as info:
        auth.authenticate(engine, "leader", STRONG_PASSWORD)
    assert info.value.msgid.startswith("This account is disabled")  # told only to whoever knows the password
    with pytest.raises(AuthError) as info:
        auth.authenticate(engine, "leader", "not-the-password")
    assert info.value.msgid == auth.SIGN_IN_REFUSED
    event, _wrong = _events_after(engine, last)
    assert event.action == "login_failed" and _details(event)["reason"] == "disabled"
    # A session opened before the account was disabled ends.
    assert auth.current_actor(engine, leader_id) is None
    assert auth.current_actor(engine, actors[Role.PRINCIPAL].id) == actors[Role.PRINCIPAL]


# ---------------------------------------------------------------- administration


def test_duplicate_username_is_refused_whatever_the_case(engine, actors):
    users, last = _user_count(engine), _last_event_id(engine)
    for name in ("leader", "Leader", "LEADER"):
        with pytest.raises(ValidationError) as info:
            auth.create_user(engine, actors[Role.ADMIN], name, "重名", Role.AUDITOR, OTHER_PASSWORD)
        assert info.value.field == "username"
    assert _user_count(engine) == users
    assert _events_after(engine, last) == []


def test_admin_creates_an_account_that_can_log_in(engine, actors):
    last = _last_event_id(engine)
    user = auth.create_user(engine, actors[Role.ADMIN], " clerk ", " 文员 ", Role.AUDITOR, OTHER_PASSWORD)
    assert (user.username, user.display_name, user.role, user.active) == ("clerk", "文员", "auditor", True)
    [event] = _events_after(engine, last)
    assert (event.action, event.entity_type, event.entity_id, event.actor_name) == (
        "create",
        "user",
        str(user.id),
        "admin",
    )
    assert "password" not in (event.after or "").replace("password_changed_at", "")
    assert auth.authenticate(engine, "clerk", OTHER_PASSWORD).role == Role.AUDITOR


def test_admin_disables_and_enables_an_account(engine, actors):
    admin, leader_id = actors[Role.ADMIN], actors[Role.LEADER].id
    last = _last_event_id(engine)
    auth.set_active(engine, admin, leader_id, False)
    assert _user(engine, "leader").active is False
    with pytest.raises(AuthError):
        auth.authenticate(engine, "leader", STRONG_PASSWORD)
    auth.set_active(engine, admin, leader_id, True)
    assert auth.authenticate(engine, "leader", STRONG_PASSWORD).username == "leader"
    actions = [(e.action, e.before, e.after) for e in _events_after(engine, last) if e.actor_name == "admin"]
    assert actions == [
        ("disable", '{"active":true}', '{"active":false}'),
        ("enable", '{"active":false}', '{"active":true}'),
    ]


def test_setting_the_same_state_writes_nothing(engine, actors):
    last = _last_event_id(engine)
    auth.set_active(engine, actors[Role.ADMIN], actors[Role.LEADER].id, True)
    auth.set_role(engine, actors[Role.ADMIN], actors[Role.LEADER].id, Role.LEADER)
    assert _events_after(engine, last) == []


def test_admin_resets_a_password_and_lifts_a_lock(engine, actors):
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(engine, "leader", "nope-nope")
    assert _user(engine, "leader").locked_until is not None
    last = _last_event_id(engine)
    auth.reset_password(engine, actors[Role.ADMIN], actors[Role.LEADER].id, OTHER_PASSWORD)
    user = _user(engine, "leader")
    assert user.locked_until is None and user.failed_logins == 0
    [event] = _events_after(engine, last)
    assert (event.action, event.entity_id) == ("reset_password", str(user.id))
    assert OTHER_PASSWORD not in (event.details or "") + (event.after or "")
    with pytest.raises(AuthError):
        auth.authenticate(engine, "leader", STRONG_PASSWORD)
    assert auth.authenticate(engine, "leader", OTHER_PASSWORD).username == "leader"


def test_reset_password_applies_the_policy(engine, actors):
    before = _user(engine, "leader").password_hash
    with pytest.raises(ValidationError):
        auth.reset_password(engine, actors[Role.ADMIN], actors[Role.LEADER].id, "12345678")
    assert _user(engine, "leader").password_hash == before


def test_admin_changes_a_role(engine, actors):
    last = _last_event_id(engine)
    auth.set_role(engine, actors[Role.ADMIN], actors[Role.AUDITOR].id, Role.PRINCIPAL)
    assert auth.authenticate(engine, "auditor", STRONG_PASSWORD).role == Role.PRINCIPAL
    event = _events_after(engine, last)[0]
    assert (event.action, event.before, event.after) == ("update", '{"role":"auditor"}', '{"role":"principal"}')


def test_admin_cannot_change_own_role_or_disable_self(engine, actors):
    admin = actors[Role.ADMIN]
    last = _last_event_id(engine)
    with pytest.raises(ValidationError):
        auth.set_role(engine, admin, admin.id, Role.LEADER)
    with pytest.raises(ValidationError):
        auth.set_active(engine, admin, admin.id, False)
    user = _user(engine, "admin")
    assert (user.role, user.active) == ("admin", True)
    assert _events_after(engine, last) == []


def test_a_disabled_admin_cannot_disable_the_last_active_one(engine, actors):
    admin = actors[Role.ADMIN]
    second = auth.actor_of(auth.create_user(engine, admin, "admin2", "副管理员", Role.ADMIN, OTHER_PASSWORD))
    # With two active administrators one may disable the other ...
    auth.set_active(engine, second, admin.id, False)
    # ... but the one disabled, still signed in, can no longer act at all.
    last = _last_event_id(engine)
    with pytest.raises(PermissionDenied, match="disabled"):
        auth.set_active(engine, admin, second.id, False)
    assert _user(engine, "admin2").active is True
    assert [e.action for e in _events_after(engine, last)] == ["permission_denied"]


def test_list_users_shows_accounts_without_hashes(engine, actors):
    frame = auth.list_users(engine, actors[Role.ADMIN])
    assert list(frame["username"]) == ["admin", "auditor", "leader", "principal"]
    assert "password_hash" not in frame.columns
    assert dict(zip(frame["username"], frame["role"], strict=True))["principal"] == "principal"


# ---------------------------------------------------------------- own password


def test_user_changes_own_password(engine, actors):
    leader = actors[Role.LEADER]
    changed_before = _user(engine, "leader").password_changed_at
    last = _last_event_id(engine)
    auth.change_own_password(engine, leader, STRONG_PASSWORD, OTHER_PASSWORD)
    assert _user(engine, "leader").password_changed_at > changed_before
    [event] = _events_after(engine, last)
    assert (event.action, event.actor_name, event.entity_id) == ("change_password", "leader", str(leader.id))
    with pytest.raises(AuthError):
        auth.authenticate(engine, "leader", STRONG_PASSWORD)
    assert auth.authenticate(engine, "leader", OTHER_PASSWORD).username == "leader"


def test_own_password_change_refusals_change_nothing(engine, actors):
    before = _user(engine, "leader").password_hash
    last = _last_event_id(engine)
    for old, new, field in [
        ("not-my-password", OTHER_PASSWORD, "old_password"),  # old must match
        (STRONG_PASSWORD, STRONG_PASSWORD, "password"),  # must differ
        (STRONG_PASSWORD, "password123", "password"),  # policy
        (STRONG_PASSWORD, "leader-at-home-1", "password"),  # contains the username
    ]:
        with pytest.raises(ValidationError) as info:
            auth.change_own_password(engine, actors[Role.LEADER], old, new)
        assert info.value.field == field, (old, new)
    assert _user(engine, "leader").password_hash == before
    assert _events_after(engine, last) == []


# ---------------------------------------------------------------- idle sessions


def test_session_expires_after_thirty_idle_minutes():
    assert not auth.session_expired(T0, now=T0)
    assert not auth.session_expired(T0, now=T0 + timedelta(minutes=29, seconds=59))
    assert not auth.session_expired(T0, now=T0 + timedelta(minutes=30))
    assert auth.session_expired(T0, now=T0 + timedelta(minutes=30, seconds=1))
    assert auth.session_expired(T0, now=T0 + timedelta(hours=5))
    assert not auth.session_expired(None, now=T0)  # never active: nothing to expire


def test_concurrent_wrong_passwords_are_all_counted(engine, actors):
    """A burst of parallel guesses must not slip past the lock-out: every
    failure is counted, none overwrites another (no lost update)."""
    import threading

    attempts = auth.MAX_FAILED_LOGINS
    barrier = threading.Barrier(attempts)
    outcomes: list[object] = []

    def guess(n: int) -> None:
        barrier.wait(timeout=30)
        try:
            auth.authenticate(engine, "leader", f"guess-{n}", now=T0)
        except AuthError as exc:
            outcomes.append(exc.msgid)
        except BaseException as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == attempts and all(isinstance(o, str) for o in outcomes), outcomes
    assert _user(engine, "leader").locked_until == T0 + timedelta(minutes=15)
    with pytest.raises(AuthError) as info:
        auth.authenticate(engine, "leader", STRONG_PASSWORD, now=T0 + timedelta(minutes=1))
    assert info.value.msgid == auth.SIGN_IN_REFUSED


def test_two_admins_disabling_each_other_at_once_leave_one_active(engine, actors, monkeypatch):
    """The last-administrator rule holds under concurrency: both requests
    pass their check before either commits unless the check locks."""
    import threading

    from services.audit import trail

    admin = actors[Role.ADMIN]
    second = auth.actor_of(auth.create_user(engine, admin, "admin2", "副管理员", Role.ADMIN, OTHER_PASSWORD))
    barrier = threading.Barrier(2)
    real_record = trail.record

    def record_after_both_checked(*args, **kwargs):
        # Where the database serialises writers the other request cannot get
        # here meanwhile; the wait then times out and this one goes on.
        try:
            barrier.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass
        return real_record(*args, **kwargs)

    monkeypatch.setattr(trail, "record", record_after_both_checked)
    outcomes: list[object] = []

    def disable(actor, target_id) -> None:
        try:
            auth.set_active(engine, actor, target_id, False)
            outcomes.append("disabled")
        except (ValidationError, PermissionDenied) as exc:
            outcomes.append(exc.msgid)
        except BaseException as exc:
            outcomes.append(exc)

    threads = [
        threading.Thread(target=disable, args=(admin, second.id)),
        threading.Thread(target=disable, args=(second, admin.id)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    monkeypatch.undo()
    # The second request is refused either by the last-administrator rule (PostgreSQL: both
    # checked before either committed) or because its own account was just disabled.
    assert sorted(map(str, outcomes))[1] == "disabled", outcomes
    assert sorted(map(str, outcomes))[0] in {
        "The last active administrator cannot be disabled.",
        "Your account has been disabled. Nothing was saved.",
    }, outcomes
    with read_session(engine) as s:
        active_admins = s.execute(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.active)
        ).scalar_one()
    assert active_admins == 1


def test_last_active_admin_cannot_be_demoted(engine, actors):
    """Not even by an administrator disabled behind their own back while their session was open."""
    from services.core.db import write_session

    admin = actors[Role.ADMIN]
    second = auth.create_user(engine, admin, "admin2", "第二管理员", Role.ADMIN, "Another-Fine-Pass-9")
    auth.set_active(engine, admin, second.id, False)
    with write_session(engine) as s:  # the first admin is disabled behind their own back
        s.get(User, admin.id).active = False
        s.get(User, second.id).active = True
    with pytest.raises(PermissionDenied, match="disabled"):
        auth.set_role(engine, admin, second.id, Role.LEADER)
    assert auth.current_actor(engine, second.id).role == Role.ADMIN
