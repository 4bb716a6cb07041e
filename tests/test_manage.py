"""manage.py, run as an administrator would: a separate process, exit codes, messages."""

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from models import AuditEvent, Employee
from services.accounts import auth
from services.core import db
from services.core.db import read_session
from tests.conftest import STRONG_PASSWORD
from tests.factories import run_manage

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "manage.py"
INIT_ARGS = [
    "init",
    "--unit-name",
    "朝阳区第一实验小学",
    "--district",
    "朝阳区",
    "--leader-name",
    "王分管",
    "--principal-name",
    "李校长",
    "--admin-username",
    "admin",
    "--admin-display-name",
    "系统管理员",
]


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'data' / 'taizhang.sqlite3'}"


@pytest.fixture
def engine_for(url):
    engines = []

    def make():
        engine = db.get_engine(url)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
    db.get_engine.cache_clear()


def assert_clean_failure(proc, code=1):
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- help


@pytest.mark.parametrize(
    "command", [[], ["init"], ["create-user"], ["reset-password"], ["demo"], ["backup"], ["audit"]]
)
def test_help_of_every_command(command, url, tmp_path):
    proc = run_manage([*command, "--help"], url)
    assert proc.returncode == 0, proc.stderr
    assert "usage: manage.py" in proc.stdout
    assert "显示本帮助并退出" in proc.stdout  # Chinese by default
    if command:
        assert command[0] in proc.stdout
    # Help touches no database.
    assert not (tmp_path / "data").exists()


def test_help_documents_password_variables_and_roles(url):
    assert "TAIZHANG_ADMIN_PASSWORD" in run_manage(["init", "--help"], url).stdout
    text = run_manage(["create-user", "--help"], url).stdout
    assert "TAIZHANG_NEW_PASSWORD" in text
    assert all(role in text for role in ("admin", "leader", "principal", "auditor"))
    assert "data/backups" in run_manage(["backup", "--help"], url).stdout


def test_help_in_english(url):
    proc = run_manage(["--lang", "en", "--help"], url)
    assert proc.returncode == 0
    assert "Show this help and exit." in proc.stdout and "First-run setup" in proc.stdout
    proc = run_manage(["demo", "--lang", "en", "--help"], url)
    assert "Random seed" in proc.stdout


def test_usage_errors_exit_2(url):
    assert run_manage([], url).returncode == 2
    assert run_manage(["create-user", "--username", "x"], url).returncode == 2
    assert (
        run_manage(["create-user", "--username", "abc", "--display-name", "x", "--role", "boss"], url).returncode == 2
    )
    assert run_manage(["--lang", "fr", "backup"], url).returncode == 2


# ---------------------------------------------------------------- a whole installation


def test_init_create_user_demo_backup(url, tmp_path, engine_for):
    # Run from another folder: manage.py finds its own package.
    proc = run_manage(INIT_ARGS, url, env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "朝阳区第一实验小学" in proc.stdout

    proc = run_manage(
        ["create-user", "--username", "wang", "--display-name", "王分管", "--role", "leader"],
        url,
        env={"TAIZHANG_NEW_PASSWORD": "Another-Fine-Pass-9"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "wang" in proc.stdout

    proc = run_manage(["demo", "--staff", "15", "--seed", "3"], url)
    assert proc.returncode == 0, proc.stderr
    passwords = dict(re.findall(r"^\s+(demo_\w+)\s+.*?(\S+)$", proc.stdout, flags=re.MULTILINE))
    assert set(passwords) == {"demo_leader", "demo_principal", "demo_auditor"}
    assert "15" in proc.stdout

    out = tmp_path / "my backups"
    proc = run_manage(["backup", "--out", str(out)], url)
    assert proc.returncode == 0, proc.stderr
    written = [p for p in out.iterdir() if not p.name.endswith(".manifest.json")]
    assert len(written) == 1 and str(written[0]) in proc.stdout
    assert written[0].with_name(written[0].name + ".manifest.json").exists()

    engine = engine_for()
    assert auth.authenticate(engine, "admin", STRONG_PASSWORD).role == "admin"
    assert auth.authenticate(engine, "wang", "Another-Fine-Pass-9").role == "leader"
    for username, password in passwords.items():
        assert auth.authenticate(engine, username, password).username == username
    with read_session(engine) as s:
        assert len(s.execute(select(Employee.id)).all()) == 15
        names = {
            (e.action, e.entity_type)
            for e in s.execute(select(AuditEvent).where(AuditEvent.actor_name == "manage.py")).scalars()
        }
    assert {("create", "unit"), ("create", "user"), ("demo_load", "unit"), ("backup", "database")} <= names


def test_init_twice_fails_in_chinese(url):
    assert run_manage(INIT_ARGS, url, env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD}).returncode == 0
    proc = run_manage(INIT_ARGS, url, env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD})
    assert_clean_failure(proc)
    assert "台账已完成首次设置" in proc.stderr


def test_commands_before_init_say_run_init_first(url):
    for args, env in [
        (
            ["create-user", "--username", "wang", "--display-name", "王", "--role", "leader"],
            {"TAIZHANG_NEW_PASSWORD": "Another-Fine-Pass-9"},
        ),
        (["demo"], {}),
    ]:
        proc = run_manage(args, url, env=env)
        assert_clean_failure(proc)
        assert "manage.py init" in proc.stderr and "尚未完成首次设置" in proc.stderr


def test_password_asked_twice_must_match(url):
    proc = run_manage(INIT_ARGS, url, stdin=f"{STRONG_PASSWORD}\nSomething-Else-77\n")
    assert_clean_failure(proc)
    assert "不一致" in proc.stderr
    proc = run_manage(INIT_ARGS, url, stdin=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n")
    assert proc.returncode == 0, proc.stderr
    assert STRONG_PASSWORD not in proc.stdout + proc.stderr


def test_no_password_and_no_terminal(url):
    proc = run_manage(INIT_ARGS, url, stdin="")
    assert_clean_failure(proc)
    assert "TAIZHANG_ADMIN_PASSWORD" in proc.stderr


def test_weak_password_is_refused_cleanly(url):
    proc = run_manage(INIT_ARGS, url, env={"TAIZHANG_ADMIN_PASSWORD": "short"})
    assert_clean_failure(proc)
    assert run_manage(["demo"], url).returncode == 1  # still not set up


def test_error_in_english(url):
    proc = run_manage(["--lang", "en", "demo"], url)
    assert_clean_failure(proc)
    assert "Taizhang is not set up yet" in proc.stderr


def test_unreachable_database_is_a_clear_message(url):
    proc = run_manage(["backup"], "postgresql+psycopg://x:y@127.0.0.1:1/nope")
    assert_clean_failure(proc)
    assert "127.0.0.1" in proc.stderr and "TAIZHANG_DATABASE_URL" in proc.stderr
    assert "x:y@" not in proc.stderr  # the password is not shown


def test_malformed_database_url_is_a_clear_message(url):
    proc = run_manage(["backup"], "this is not a url")
    assert_clean_failure(proc)
    assert proc.stderr.strip()


# ---------------------------------------------------------------- import


def _samples():
    from tests.import_files import samples_dir

    return samples_dir()


@pytest.fixture
def set_up(url):
    assert run_manage(INIT_ARGS, url, env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD}).returncode == 0
    return url


def test_import_help(url):
    proc = run_manage(["import", "--help"], url)
    assert proc.returncode == 0
    assert "--dry-run" in proc.stdout and "--update-existing" in proc.stdout and "GB18030" in proc.stdout


def test_import_staff_then_family(set_up, engine_for):
    samples = _samples()
    proc = run_manage(["import", "staff", str(samples / "staff_clean.xlsx"), "--dry-run"], set_up)
    assert proc.returncode == 0, proc.stderr
    assert "试运行" in proc.stdout and "新增 40 行" in proc.stdout

    proc = run_manage(["import", "staff", str(samples / "staff_clean.xlsx")], set_up)
    assert proc.returncode == 0, proc.stderr
    assert "新增 40 条" in proc.stdout and "新建的部门" in proc.stdout
    proc = run_manage(["import", "family", str(samples / "family_gbk.csv")], set_up)
    assert proc.returncode == 0, proc.stderr

    # Again without --update-existing: every row refused, nothing written.
    proc = run_manage(["import", "staff", str(samples / "staff_clean.xlsx")], set_up)
    assert_clean_failure(proc)
    assert "第 4 行，工号：工号已存在" in proc.stdout and "没有导入任何数据" in proc.stderr
    assert proc.stdout.count("请加 --update-existing 重新导入") == 1  # the command line's own hint, once
    proc = run_manage(["import", "staff", str(samples / "staff_clean.xlsx"), "--update-existing"], set_up)
    assert proc.returncode == 0, proc.stderr
    assert "更新 40 条" in proc.stdout

    engine = engine_for()
    with read_session(engine) as s:
        assert len(s.execute(select(Employee.id)).all()) == 40
        events = s.execute(select(AuditEvent).where(AuditEvent.action == "import")).scalars().all()
    assert [e.actor_name for e in events] == ["manage.py"] * 3


def test_import_messy_file_lists_each_error_and_writes_nothing(set_up, engine_for, tmp_path):
    messy = str(_samples() / "staff_messy.xlsx")
    proc = run_manage(["import", "staff", messy, "--dry-run"], set_up)
    assert_clean_failure(proc)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("第 ")]
    assert [re.match(r"第 (\d+) 行，", line)[1] for line in lines] == ["3", "5", "7", "9", "11"]
    assert lines[0] == "第 3 行，身份证号：身份证号校验位错误（最后一位不对），请对照身份证核对号码。"
    assert "有错误 5 行" in proc.stdout and "试运行" in proc.stderr

    proc = run_manage(["import", "staff", messy], set_up)
    assert_clean_failure(proc)
    with read_session(engine_for()) as s:
        assert s.execute(select(Employee.id)).all() == []

    rejected = tmp_path / "rejected.xlsx"
    proc = run_manage(
        ["--lang", "en", "import", "staff", messy, "--clean-rows-only", "--rejected", str(rejected)], set_up
    )
    assert proc.returncode == 0, proc.stderr
    assert "Row 3, 身份证号: The check digit" in proc.stdout
    assert "Imported: 7 created, 0 updated." in proc.stdout and "5 rows with errors were left out." in proc.stdout
    assert rejected.exists()


def test_import_refusals_are_clean(set_up, tmp_path):
    garbage = tmp_path / "x.xlsx"
    garbage.write_bytes(b"not a workbook at all")
    proc = run_manage(["import", "staff", str(garbage)], set_up)
    assert_clean_failure(proc)
    assert "不是台账能读取的表格文件" in proc.stderr
    proc = run_manage(["import", "staff", str(tmp_path / "missing.xlsx")], set_up)
    assert_clean_failure(proc)
    proc = run_manage(["import", "family", str(garbage), "--update-existing"], set_up)
    assert proc.returncode == 2
    proc = run_manage(["import", "family", str(_samples() / "family_gbk.csv")], set_up)  # no staff yet
    assert_clean_failure(proc)
    assert "工号 T0003 不存在" in proc.stdout


def test_reset_password_lets_a_locked_out_administrator_back_in(set_up, engine_for):
    from services.core.errors import AuthError

    engine = engine_for()
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(engine, "admin", "not-the-password")
    with pytest.raises(AuthError):  # locked: even the right password is refused
        auth.authenticate(engine, "admin", STRONG_PASSWORD)
    new = "Fresh-Winter-Pine-4"
    proc = run_manage(["reset-password", "--username", "ADMIN"], set_up, env={"TAIZHANG_NEW_PASSWORD": new})
    assert proc.returncode == 0, proc.stderr
    assert "已为 admin 重设密码，账户已解锁" in proc.stdout
    assert auth.authenticate(engine, "admin", new).username == "admin"
    with read_session(engine) as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "reset_password")).scalars().one()
    assert event.actor_name == "manage.py" and event.actor_id is None


def test_reset_password_refusals_change_nothing(set_up, engine_for):
    proc = run_manage(
        ["reset-password", "--username", "nobody"], set_up, env={"TAIZHANG_NEW_PASSWORD": "Fresh-Winter-Pine-4"}
    )
    assert_clean_failure(proc)
    assert "没有名为 nobody 的账户" in proc.stderr
    proc = run_manage(["reset-password", "--username", "admin"], set_up, env={"TAIZHANG_NEW_PASSWORD": "12345678"})
    assert_clean_failure(proc)
    assert "过于常见" in proc.stderr
    proc = run_manage(
        ["reset-password", "--username", "admin"], set_up, stdin="Fresh-Winter-Pine-4\nSomething-Else-77\n"
    )
    assert_clean_failure(proc)
    with read_session(engine_for()) as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "reset_password")).first() is None


# ---------------------------------------------------------------- the audit trail


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def test_init_creates_the_audit_key_and_says_where_to_back_it_up(url):
    proc = run_manage(INIT_ARGS, url, env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD})
    assert proc.returncode == 0, proc.stderr
    key = _sqlite_path(url).with_name("taizhang.sqlite3.audit-key")
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    assert str(key) in proc.stdout and "审计密钥" in proc.stdout and "另行备份" in proc.stdout


def test_audit_verify_names_a_deleted_tail_in_chinese_and_start_up_restores_the_guards(url):
    import sqlite3

    assert run_manage(INIT_ARGS, url, env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD}).returncode == 0
    assert run_manage(["demo", "--staff", "5"], url).returncode == 0
    proc = run_manage(["audit", "verify"], url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("校验链完整")
    assert run_manage(["audit", "checkpoint"], url).returncode == 0

    # Someone with the database file, not the key, removes the newest events.
    conn = sqlite3.connect(_sqlite_path(url))
    with conn:
        (last,) = conn.execute("SELECT max(id) FROM audit_event").fetchone()
        conn.execute("DROP TRIGGER audit_event_no_delete")
        conn.execute("DELETE FROM audit_event WHERE id > ?", (last - 3,))
        conn.execute("DELETE FROM audit_checkpoint")
    conn.close()
    proc = run_manage(["audit", "verify"], url)
    assert_clean_failure(proc)
    first, *others = proc.stderr.strip().splitlines()[::-1]
    assert (
        "审计日志校验未通过" in first and f"止于第 {last - 3} 号记录" in first and "末尾至少 3 条记录被删除了" in first
    )
    assert any("另外" in line and "audit_event_no_delete" in line for line in others)
    # verify repairs nothing; any other command's start-up puts the guard back and records it.
    assert "audit_event_no_delete" in run_manage(["audit", "verify"], url).stderr
    assert run_manage(["audit", "checkpoint"], url).returncode == 0
    conn = sqlite3.connect(_sqlite_path(url))
    try:
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        repair = conn.execute(
            "SELECT actor_name, details FROM audit_event WHERE action = 'repair_guards' ORDER BY id DESC"
        ).fetchone()
    finally:
        conn.close()
    assert {"audit_event_no_update", "audit_event_no_delete"} <= triggers
    assert repair == ("manage.py", '{"recreated":["audit_event_no_delete"]}')
    proc = run_manage(["audit", "verify", "--lang", "en"], url)
    assert_clean_failure(proc)
    # The repair's event now follows the cut: at least 2 of the deleted events are still missing.
    assert "at least 2 events at the end were deleted" in proc.stderr and "audit_event_no_delete" not in proc.stderr


def test_audit_verify_compares_a_backup_manifest(url, tmp_path):
    import sqlite3

    assert run_manage(INIT_ARGS, url, env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD}).returncode == 0
    out = tmp_path / "backups"
    assert run_manage(["backup", "--out", str(out)], url).returncode == 0
    [manifest] = out.glob("*.manifest.json")
    assert run_manage(["audit", "verify", "--manifest", str(manifest)], url).returncode == 0
    conn = sqlite3.connect(_sqlite_path(url))
    with conn:
        conn.execute("DROP TRIGGER audit_event_no_delete")
        conn.execute("DELETE FROM audit_event WHERE id > 1")
        conn.execute("DELETE FROM audit_checkpoint")
    conn.close()
    _sqlite_path(url).with_name("taizhang.sqlite3.audit-checkpoints").unlink()
    proc = run_manage(["audit", "verify", "--manifest", str(manifest)], url)
    assert_clean_failure(proc)
    assert str(manifest) in proc.stderr and "被删除了" in proc.stderr
