#!/usr/bin/env python3
"""Taizhang's command line for administrators: set up, accounts, demo, import, backup, report.

Run `python manage.py --help`.  Every command first brings the database to the
newest schema, puts back missing audit guards (recorded) and writes the day's
audit checkpoint (services.audit.guard.startup); `audit verify` only upgrades,
so that it reports a missing guard instead of repairing it first.  Whoever can
run this has the database itself in hand, which is the administrator's position
by definition, so no sign-in is asked; the audit trail records "manage.py" as
the actor.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from services.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

VIA = "manage.py"
ADMIN_PASSWORD_ENV = "TAIZHANG_ADMIN_PASSWORD"
NEW_PASSWORD_ENV = "TAIZHANG_NEW_PASSWORD"

LANG = DEFAULT_LANGUAGE


def t(msgid: str, **kw: object) -> str:
    return translate(LANG, msgid, **kw)


# ---------------------------------------------------------------- helpers


def _fail(msgid: str, **params: object) -> NoReturn:
    from services.core.errors import ServiceError

    raise ServiceError(msgid, **params)


def _require_initialised(engine: Engine) -> None:
    from services.core.i18n import N_
    from services.ledger.unit import is_initialised

    if not is_initialised(engine):
        _fail(N_("Taizhang is not set up yet. Run first: python manage.py init --help"))


def _password(env_name: str, username: str) -> str:
    """From the environment variable (scripted runs), else asked twice without echo."""
    from services.core.i18n import N_

    value = os.environ.get(env_name)
    if value:
        return value
    try:
        first = getpass.getpass(t("Password for {username}: ", username=username))
        second = getpass.getpass(t("Repeat the password: "))
    except EOFError:
        print(file=sys.stderr)
        _fail(N_("No password given. Type it when asked, or set {env} for a scripted run."), env=env_name)
    if first != second:
        _fail(N_("The passwords do not match; nothing was changed."))
    return first


def _pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where a Chinese character takes two columns."""
    import unicodedata

    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - shown)


def _role_label(role: str) -> str:
    from services.core.permissions import ROLE_LABELS, Role

    return translate(LANG, ROLE_LABELS[Role(role)])


# ---------------------------------------------------------------- commands


def cmd_init(engine: Engine, args: argparse.Namespace) -> None:
    from services.accounts import auth
    from services.core.i18n import N_
    from services.ledger import unit

    # Ask no password for nothing: say at once when setup is already done.
    if auth.any_user_exists(engine):
        _fail(N_("Taizhang is already set up. Add accounts with: python manage.py create-user"))
    password = _password(ADMIN_PASSWORD_ENV, args.admin_username)
    admin = unit.initialise(
        engine,
        unit_name=args.unit_name,
        district=args.district,
        leader_name=args.leader_name,
        principal_name=args.principal_name,
        admin_username=args.admin_username,
        admin_display_name=args.admin_display_name,
        admin_password=password,
        via=VIA,
        kind=args.unit_kind,
    )
    print(
        t(
            "Taizhang is set up for {unit}. The administrator {username} can sign in now.",
            unit=args.unit_name.strip(),
            username=admin.username,
        )
    )
    _print_key_advice(engine)


def _print_key_advice(engine: Engine) -> None:
    from services.audit import key

    print(
        t(
            "The audit key is {where}. Back it up apart from the database backups: "
            "without it the audit trail cannot be verified.",
            where=key.key_source(engine.url),
        )
    )


def cmd_audit(engine: Engine, args: argparse.Namespace) -> None:
    from services.audit import checkpoint, reading
    from services.core.formatting import fmt_datetime
    from services.core.i18n import N_

    if args.action == "checkpoint":
        anchor = checkpoint.write(engine, checkpoint.MANUAL)
        print(
            t(
                "Checkpoint written: {n} events, last hash {head} ({at}).",
                n=anchor.event_count,
                head=anchor.head_hash[:16],
                at=fmt_datetime(anchor.at),
            )
        )
        return
    report = reading.verify_chain(engine, None, via=VIA, manifests=[Path(m) for m in args.manifest or []])
    if report.ok:
        print(report.message(LANG))
        return
    for problem in report.problems[1:]:
        print(t("Also: {problem}", problem=problem.text(LANG)), file=sys.stderr)
    _fail(N_("The audit trail failed its check: {problem}"), problem=report.problems[0].text(LANG))


def cmd_create_user(engine: Engine, args: argparse.Namespace) -> None:
    from services.accounts import auth
    from services.core.db import write_session
    from services.core.permissions import Role

    _require_initialised(engine)
    password = _password(NEW_PASSWORD_ENV, args.username)
    user = auth.new_user(args.username, args.display_name, Role(args.role), password)
    with write_session(engine) as session:
        auth.add_user(session, None, user, via=VIA)
    print(t("Account {username} created with the role {role}.", username=user.username, role=_role_label(user.role)))


def cmd_reset_password(engine: Engine, args: argparse.Namespace) -> None:
    from services.accounts import auth

    _require_initialised(engine)
    password = _password(NEW_PASSWORD_ENV, args.username)
    user = auth.reset_password_via(engine, args.username, password, via=VIA)
    print(
        t(
            "The password of {username} is reset and the account unlocked. Hand the new password over in person.",
            username=user.username,
        )
    )
    if not user.active:
        print(
            t(
                "The account {username} is disabled: an administrator must enable it before it can sign in.",
                username=user.username,
            )
        )


def cmd_demo(engine: Engine, args: argparse.Namespace) -> None:
    from services.devdata import demo

    _require_initialised(engine)
    result = demo.load_demo(engine, seed=args.seed, staff=args.staff, via=VIA)
    print(
        t(
            "Loaded the fictional demo unit: {employees} staff and {family} family members.",
            employees=result.employees,
            family=result.family_members,
        )
    )
    if result.accounts:
        print()
        print(t("Demo accounts:"))
        for username, role, password in result.accounts:
            print(f"  {_pad(username, 16)} {_pad(_role_label(role), 12)} {password}")
        print()
        print(t("These passwords are shown only this once: note them now. The administrator can reset them later."))
    if result.skipped_accounts:
        print(
            t(
                "These accounts already existed and were left unchanged: {names}",
                names=", ".join(result.skipped_accounts),
            )
        )


def cmd_generate(engine: Engine, args: argparse.Namespace) -> None:
    import time

    from services.devdata import generate

    start = time.perf_counter()
    result = generate.generate(engine, staff=args.staff, seed=args.seed, years=args.years, via=VIA)
    if result.admin_password:
        assert result.admin_username is not None  # the new administrator's, set with the password
        print(
            t("Taizhang was not set up: created the fictional unit {unit}.", unit=generate.FICTIONAL_UNIT["unit_name"])
        )
        print(f"  {_pad(result.admin_username, 16)} {_pad(_role_label('admin'), 12)} {result.admin_password}")
        print(t("This password is shown only this once: note it now."))
    print(
        t(
            "Generated {employees} staff, {family} family members and {departments} departments"
            " (seed {seed}) in {seconds} s.",
            employees=result.employees,
            family=result.family_members,
            departments=result.departments,
            seed=result.seed,
            seconds=f"{time.perf_counter() - start:.1f}",
        )
    )


def cmd_import(engine: Engine, args: argparse.Namespace) -> None:
    """Same checks and the same all-or-nothing commit as the import page."""
    from services.core.i18n import N_
    from services.ledger import imports

    _require_initialised(engine)
    path = Path(args.file)
    data = path.read_bytes()
    if args.kind == "staff":
        preview = imports.preview_staff(
            engine, None, data, path.name, sheet=args.sheet, update_existing=args.update_existing, via=VIA
        )
    else:
        preview = imports.preview_family(engine, None, data, path.name, sheet=args.sheet, via=VIA)
    for error in preview.errors:
        print(error.line(LANG))
    if any(error.msgid == imports.STAFF_NO_EXISTS for error in preview.errors):
        # The message names the import page's checkbox; here the option is a flag.
        print(
            t(
                "Staff nos. already on the ledger: to update those staff from this file, "
                "run the import again with --update-existing."
            )
        )
    print(
        t(
            "{file}: {total} rows, {create} to create, {update} to update, {bad} with errors.",
            file=path.name,
            total=preview.total_rows,
            create=preview.to_create,
            update=preview.to_update,
            bad=preview.error_rows,
        )
    )
    if args.rejected and preview.rejected:
        Path(args.rejected).write_bytes(imports.rejected_rows_xlsx(preview, LANG))
        print(t("Rows with errors written to {path}.", path=args.rejected))
    if args.dry_run:
        if preview.errors:
            _fail(N_("Dry run: the file has errors, nothing would be imported."))
        print(t("Dry run: the file is correct. Nothing was written."))
        return
    commit = imports.commit_staff if args.kind == "staff" else imports.commit_family
    result = commit(engine, None, preview, clean_rows_only=args.clean_rows_only, via=VIA)
    print(t("Imported: {created} created, {updated} updated.", created=result.created, updated=result.updated))
    if result.skipped_rows:
        print(t("{rows} rows with errors were left out.", rows=result.skipped_rows))
    if result.departments_created:
        print(t("New departments: {names}", names="、".join(result.departments_created)))


def cmd_backup(engine: Engine, args: argparse.Namespace) -> None:
    from services.accounts import backup

    path = backup.backup(engine, None, Path(args.out) if args.out else backup.DEFAULT_BACKUP_DIR, via=VIA)
    print(t("Backup written: {path} ({size} KB)", path=str(path), size=max(1, round(path.stat().st_size / 1024))))


def cmd_report(engine: Engine, args: argparse.Namespace) -> None:
    """The year-end district report: the same two files as the 年度报表 page."""
    from services.year import report

    _require_initialised(engine)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = report.build_report(engine, None, args.year, via=VIA)
    for name, data in ((result.workbook_filename, result.workbook), (result.summary_filename, result.summary)):
        (out / name).write_bytes(data)
        print(t("Written: {path}", path=str(out / name)))
    print(t("Checksum: {checksum}", checksum=result.checksum))


def _workbook_files(folder: Path) -> list[Path]:
    """The workbooks of a folder, by name (Excel's ~$ lock files and hidden files left out)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in (".xlsx", ".xls") and not p.name.startswith(("~$", "."))
    )


def cmd_district(engine: Engine, args: argparse.Namespace) -> int:
    """Collect a folder of school workbooks and write the district's two files."""
    from services.core.i18n import N_
    from services.district import collect, rollup
    from services.ledger.unit import get_unit

    folder = Path(args.dir)
    if not folder.is_dir():
        _fail(N_("{path} is not a folder."), path=str(folder))
    paths = _workbook_files(folder)
    files = [(p.name, p.read_bytes()) for p in paths]
    if not files:
        print(t("No workbook (.xlsx) in {path}; nothing was collected.", path=str(folder)), file=sys.stderr)
        return 1
    roster = None
    if args.roster:
        roster_path = Path(args.roster)
        roster = collect.read_roster(roster_path.name, roster_path.read_bytes())
    if get_unit(engine) is None:
        district = collect.district_of(files)
        if district is None:
            _fail(
                N_(
                    "Taizhang is not set up yet and no workbook names its district (所属区). Run first: "
                    "python manage.py init --unit-kind district --help"
                )
            )
        collect.setup_district(engine, district, args.year, via=VIA)
        print(
            t(
                "Taizhang is set up as the district office of {district}. Add its administrator with: "
                "python manage.py init --unit-kind district ...",
                district=district,
            )
        )
    result = collect.collect(engine, None, files, args.year, roster=roster, via=VIA)
    for line in collect.problem_lines(result.checks, LANG):
        print(line)
    read = [c for c in result.checks if c.status != collect.Status.BAD_FORMAT or c.unit_name is not None]
    r, workbook, docx = rollup.build_rollup_files(engine, None, args.year, via=VIA)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in zip(rollup.rollup_file_names(r.district, r.year), (workbook, docx), strict=True):
        (out / name).write_bytes(data)
        print(t("Written: {path}", path=str(out / name)))
    print(
        t(
            "{files} files: {reported} units counted, {missing} not reported, {refused} refused.",
            files=len(files),
            reported=r.counts["已报"],
            missing=r.counts["未报"],
            refused=r.counts["退回"],
        )
    )
    if not read:
        print(t("No file could be read as a workbook."), file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- parser


def _add_help(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=t("Show this help and exit."))


def _language(argv: list[str]) -> str:
    """--lang is read before the parser is built, so --help speaks it too."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--lang", choices=list(LANGUAGES), default=DEFAULT_LANGUAGE)
    known, _ = pre.parse_known_args(argv)
    return known.lang


def build_parser() -> argparse.ArgumentParser:
    # Kept free of database imports, so --help answers at once.
    lang_help = t("Language of the messages: zh_CN (Chinese, default) or en (English).")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", choices=list(LANGUAGES), default=argparse.SUPPRESS, help=lang_help)
    formatter = argparse.RawDescriptionHelpFormatter

    parser = argparse.ArgumentParser(
        prog="manage.py",
        add_help=False,
        formatter_class=formatter,
        description=t("Taizhang administration on the command line: first-run setup, accounts, demo data and backups."),
        epilog=t(
            "The database is the one named by the environment variable {env} (default: data/taizhang.sqlite3). "
            "Every command first brings the database to the newest schema.",
            env="TAIZHANG_DATABASE_URL",  # services.core.db.DATABASE_URL_ENV
        ),
    )
    _add_help(parser)
    parser.add_argument("--lang", choices=list(LANGUAGES), default=DEFAULT_LANGUAGE, help=lang_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title=t("commands"), required=True)

    def command(name: str, summary: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            parents=[common],
            add_help=False,
            help=summary,
            description=description,
            epilog=epilog,
            formatter_class=formatter,
        )
        _add_help(sub)
        return sub

    init = command(
        "init",
        t("First-run setup: the unit profile and the first administrator."),
        t(
            "First-run setup without the browser: saves the unit profile and creates the first administrator account. "
            "Refused once any account exists."
        ),
        t(
            "The password is asked twice without echo. For a scripted install set the environment variable "
            "{env} instead; it is used once and stored only as a hash.",
            env=ADMIN_PASSWORD_ENV,
        ),
    )
    init.add_argument("--unit-name", required=True, metavar="NAME", help=t("Name of the unit, e.g. the school."))
    init.add_argument("--district", required=True, metavar="NAME", help=t("District the unit reports to."))
    init.add_argument("--leader-name", required=True, metavar="NAME", help=t("Name of the designated leader."))
    init.add_argument("--principal-name", required=True, metavar="NAME", help=t("Name of the principal."))
    init.add_argument(
        "--admin-username",
        required=True,
        metavar="USERNAME",
        help=t("Sign-in name of the first administrator (3 to 50 letters, digits, dots, hyphens or underscores)."),
    )
    init.add_argument(
        "--admin-display-name", required=True, metavar="NAME", help=t("Full name of the first administrator.")
    )
    init.add_argument(
        "--unit-kind",
        choices=["school", "district"],  # services.core.permissions.UnitKind
        default="school",
        help=t(
            "school: the unit keeps its own ledger (default); district: a district office that collects "
            "the units' year-end workbooks and rolls them up."
        ),
    )
    init.set_defaults(handler=cmd_init)

    create_user = command(
        "create-user",
        t("Create an account."),
        t(
            "Create an account with one of the roles: admin (accounts, unit profile, backups), "
            "leader (keeps the ledger), principal (decides cases, signs off the year), auditor (reads only). "
            "Taizhang must be set up first (init)."
        ),
        t(
            "The password is asked twice without echo. For a scripted run set the environment variable {env} instead.",
            env=NEW_PASSWORD_ENV,
        ),
    )
    create_user.add_argument(
        "--username", required=True, metavar="USERNAME", help=t("Sign-in name of the new account.")
    )
    create_user.add_argument("--display-name", required=True, metavar="NAME", help=t("Full name shown in Taizhang."))
    create_user.add_argument(
        "--role", required=True, choices=["admin", "leader", "principal", "auditor"], help=t("Role of the new account.")
    )
    create_user.set_defaults(handler=cmd_create_user)

    reset = command(
        "reset-password",
        t("Set a new password for an account."),
        t(
            "Set a new password for an account and lift a lockout after failed sign-ins, for when no administrator "
            "can sign in (the only one forgot the password). "
            "In Taizhang an administrator does this on the accounts page. Recorded in the audit trail."
        ),
        t(
            "The password is asked twice without echo. For a scripted run set the environment variable {env} instead.",
            env=NEW_PASSWORD_ENV,
        ),
    )
    reset.add_argument("--username", required=True, metavar="USERNAME", help=t("Sign-in name of the account."))
    reset.set_defaults(handler=cmd_reset_password)

    demo = command(
        "demo",
        t("Load a fictional demo unit to try Taizhang."),
        t(
            "Fill an empty ledger with a fictional school (staff with their families) and create the accounts "
            "demo_leader, demo_principal and demo_auditor with random passwords, printed once. "
            "Refused when the ledger already has staff. Taizhang must be set up first (init)."
        ),
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=2026,
        metavar="N",
        help=t("Random seed: the same seed gives the same unit (default: 2026)."),
    )
    demo.add_argument("--staff", type=int, default=40, metavar="N", help=t("Number of staff (default: 40)."))
    demo.set_defaults(handler=cmd_demo)

    generate = command(
        "generate",
        t("Generate a large fictional unit (for load tests and benchmarks)."),
        t(
            "Fill an empty ledger with a fictional education group of the given size: departments of about 40 staff, "
            "staff with valid ID numbers and about two family members each. The same seed gives the same unit. "
            "Refused when the ledger already has staff. If Taizhang is not set up, a fictional unit is set up first "
            "and the administrator's random password is printed once."
        ),
    )
    generate.add_argument("--staff", type=int, required=True, metavar="N", help=t("Number of staff."))
    generate.add_argument(
        "--seed",
        type=int,
        default=2026,
        metavar="N",
        help=t("Random seed: the same seed gives the same unit (default: 2026)."),
    )
    generate.add_argument(
        "--years",
        type=int,
        default=1,
        metavar="K",
        help=t("Assessment years of activity to generate, the current one and those before it (default: 1)."),
    )
    generate.set_defaults(handler=cmd_generate)

    import_ = command(
        "import",
        t("Import staff or family members from a spreadsheet."),
        t(
            "Check a spreadsheet (.xlsx or .csv, UTF-8 or GB18030) and import it: staff, or the family members of "
            "staff already in the ledger. Every error is listed with its row and column; if there is any, nothing is "
            "imported (unless --clean-rows-only). Taizhang must be set up first (init)."
        ),
        t("Exit status: 0 when imported (or, with --dry-run, when the file is correct), 1 when refused."),
    )
    import_.add_argument("kind", choices=["staff", "family"], help=t("What the file holds: staff or family."))
    import_.add_argument("file", metavar="FILE", help=t("The .xlsx or .csv file."))
    import_.add_argument("--dry-run", action="store_true", help=t("Only check the file; write nothing."))
    import_.add_argument("--sheet", default=None, metavar="NAME", help=t("Sheet of the workbook (default: the first)."))
    import_.add_argument(
        "--update-existing",
        action="store_true",
        help=t("Staff only: rows whose staff no. is already in the ledger update that staff member."),
    )
    import_.add_argument(
        "--clean-rows-only", action="store_true", help=t("Import the correct rows and leave out the rows with errors.")
    )
    import_.add_argument(
        "--rejected",
        default=None,
        metavar="OUT.xlsx",
        help=t("Write the rows with errors, with the reason, to this workbook."),
    )
    import_.set_defaults(handler=cmd_import)

    backup = command(
        "backup",
        t("Back up the database."),
        t(
            "Write a complete, checked copy of the database (ledger, accounts and audit trail) and print its path. "
            "SQLite is copied safely while Taizhang runs; PostgreSQL needs pg_dump. "
            "The file holds personal information: keep it safe."
        ),
    )
    backup.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help=t("Folder for the backup file (default: data/backups/ in the Taizhang folder)."),
    )
    backup.set_defaults(handler=cmd_backup)

    report = command(
        "report",
        t("Write the year-end district report (workbook and work summary)."),
        t(
            "Write the two files the district receives for an assessment year: "
            "the workbook and the draft work summary, the same as the year-end report page produces. "
            "Taizhang must be set up first (init). "
            "The files hold personal information (ID numbers are masked): keep them safe."
        ),
    )
    report.add_argument("year", type=int, metavar="YEAR", help=t("Assessment year, e.g. 2025."))
    report.add_argument("--out", required=True, metavar="DIR", help=t("Folder for the two files (created if missing)."))
    report.set_defaults(handler=cmd_report)

    district = command(
        "district",
        t("District office: collect the units' year-end workbooks and roll them up."),
        t(
            "collect: check every workbook (.xlsx) in DIR for the assessment year (format, year, checksum, the "
            "summary's figures, duplicates, the roster), store each with its status, and write the district's "
            "roll-up workbook and draft work summary into OUTDIR. One line is printed per file with a problem. "
            "On a database not set up yet, it is set up as a district office named after the workbooks' district."
        ),
        t(
            "Exit status: 0 when every file was read and checked (even if some were refused), "
            "1 when no file could be read."
        ),
    )
    district.add_argument("action", choices=["collect"], help=t("What to do: collect."))
    district.add_argument("dir", metavar="DIR", help=t("Folder holding the units' workbooks."))
    district.add_argument("--year", type=int, required=True, metavar="YEAR", help=t("Assessment year, e.g. 2025."))
    district.add_argument(
        "--roster",
        metavar="FILE",
        help=t("The roster of units that must report (.xlsx or .csv, a column 单位名称)."),
    )
    district.add_argument(
        "--out", required=True, metavar="OUTDIR", help=t("Folder for the two files (created if missing).")
    )
    district.set_defaults(handler=cmd_district)

    audit = command(
        "audit",
        t("Verify the audit trail, or checkpoint it now."),
        t(
            "verify: recompute the keyed hash chain, compare it with every checkpoint (the database's, the "
            "checkpoint log beside the audit key, the backup manifests given) and check the database's guards; "
            "the same check as the audit page. The first problem found is named. "
            "checkpoint: write a signed checkpoint of the chain now (backups, sign-offs and the first start "
            "or sign-in of each day write one anyway)."
        ),
        t("Exit status of verify: 0 when the trail is intact, 1 when a problem is found."),
    )
    audit.add_argument("action", choices=["verify", "checkpoint"], help=t("What to do: verify or checkpoint."))
    audit.add_argument(
        "--manifest",
        action="append",
        metavar="FILE",
        help=t("A backup's manifest (.manifest.json) whose checkpoint the chain must agree with; may be repeated."),
    )
    audit.set_defaults(handler=cmd_audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    global LANG
    argv = sys.argv[1:] if argv is None else argv
    LANG = _language(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "kind", None) == "family" and args.update_existing:
        parser.error(t("--update-existing applies to staff only."))

    from sqlalchemy.exc import SQLAlchemyError

    from services.audit import guard
    from services.core.db import get_engine, upgrade_to_head
    from services.core.errors import ServiceError

    code: int | None = 0
    try:
        engine = get_engine()
        if args.command == "audit" and args.action == "verify":
            upgrade_to_head(engine)
        else:
            guard.startup(engine, via=VIA)
        code = args.handler(engine, args)
    except ServiceError as err:
        print(t("Error: {message}", message=err.translated(LANG)), file=sys.stderr)
        return 1
    except SQLAlchemyError as err:
        detail = str(getattr(err, "orig", None) or err).strip().splitlines()
        print(t("Database error: {message}", message=detail[0] if detail else type(err).__name__), file=sys.stderr)
        return 1
    except OSError as err:
        print(t("Error: {message}", message=str(err)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
