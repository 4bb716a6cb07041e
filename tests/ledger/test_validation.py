"""The staff and family rules shared by the forms and the import (services/ledger/validation.py)."""

from datetime import date, datetime

import pytest
from sqlalchemy import insert

from models import Employee
from services.core.db import read_session, write_session
from services.ledger import validation as v
from services.ledger.idnumbers import ID_CHECKSUM, ID_EXCEL_NUMBER, ID_LENGTH
from services.ledger.validation import (
    FieldError,
    clean_employee,
    clean_family_member,
    existing_conflicts,
)

TODAY = date(2026, 11, 29)
# A real-shaped number (Shuangluan district, Chengde) from the staff samples.
ID_M = "13080319710907901X"  # male, born 1971-09-07
ID_F = "13080319660311578X"  # female, born 1966-03-11


def staff(**overrides):
    raw = {"staff_no": "T0001", "name": "蔡晓", "id_number": ID_M}
    raw.update(overrides)
    return clean_employee(raw, today=TODAY)


def msgids(errors):
    return [(e.field, e.msgid) for e in errors]


# ---------------------------------------------------------------- staff


def test_minimal_row_derives_gender_and_birth_date_and_defaults_status():
    values, errors = staff()
    assert errors == []
    assert values["gender"] == "M"
    assert values["birth_date"] == date(1971, 9, 7)
    assert values["status"] == "active"
    assert set(values) == set(v.EMPLOYEE_FIELDS)
    assert values["phone"] is None and values["department"] is None


def test_chinese_labels_become_codes():
    values, errors = staff(gender="男", status="退休", marital_status="已婚", department=" 语文组 ", post="教师")
    assert errors == []
    assert (values["gender"], values["status"], values["marital_status"]) == ("M", "retired", "married")
    assert values["department"] == "语文组"


def test_codes_are_accepted_too():
    values, errors = staff(gender="M", status="left", marital_status="widowed")
    assert errors == []
    assert (values["gender"], values["status"], values["marital_status"]) == ("M", "left", "widowed")


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-05",
        "2024/1/5",
        "2024.1.5",
        "2024年1月5日",
        "20240105",
        "２０２４－０１－０５",
        " 2024-1-5 ",
        "2024-01-05 00:00:00",
        date(2024, 1, 5),
        datetime(2024, 1, 5, 0, 0),
        45296,
        45296.0,
        "45296",
        20240105,
    ],
)
def test_accepted_date_forms(value):
    values, errors = staff(hire_date=value)
    assert errors == []
    assert values["hire_date"] == date(2024, 1, 5)


@pytest.mark.parametrize("value", ["去年", "2024年1月", "1/5/2024", "2024-01", "abc", "12.5", True])
def test_other_text_is_not_a_date_and_names_the_field(value):
    _, errors = staff(hire_date=value)
    assert msgids(errors) == [("hire_date", v.DATE_FORM)]
    assert errors[0].translated("zh_CN").startswith("入职日期")


@pytest.mark.parametrize("value", ["1990-02-30", "2023/2/29", "19900230", "2024年13月1日"])
def test_a_day_that_does_not_exist(value):
    _, errors = staff(birth_date=value)
    assert msgids(errors) == [("birth_date", v.DATE_NOT_REAL)]
    assert "出生日期不存在" in errors[0].translated("zh_CN")


def test_future_birth_and_hire_dates_are_errors():
    _, errors = staff(hire_date="2026-11-30")
    assert msgids(errors) == [("hire_date", v.DATE_FUTURE)]
    _, errors = staff(hire_date="2026-11-29")
    assert errors == []
    _, errors = clean_family_member(
        {"staff_no": "T1", "relation": "子女", "name": "小明", "birth_date": "2027-01-01"},
        today=TODAY,
        employee_birth_date=date(1990, 1, 1),
    )
    assert msgids(errors) == [("birth_date", v.DATE_FUTURE)]


def test_hire_date_before_birth_is_an_error():
    _, errors = staff(hire_date="1970-01-01")
    assert msgids(errors) == [("hire_date", v.HIRE_BEFORE_BIRTH)]


def test_required_fields():
    _, errors = clean_employee({"staff_no": " ", "name": None, "id_number": ""}, today=TODAY)
    assert msgids(errors) == [("staff_no", v.REQUIRED), ("name", v.REQUIRED), ("id_number", v.REQUIRED)]
    assert errors[0].translated("zh_CN") == "请填写工号。"
    assert errors[0].translated("en") == "Staff no. is required."


def test_name_length_and_padding():
    assert staff(name="张　三")[0]["name"] == "张三"  # full-width padding for alignment
    assert staff(name="A" * 30)[1] == []
    assert msgids(staff(name="A" * 31)[1]) == [("name", v.TOO_LONG)]


def test_id_number_is_normalised():
    for raw in [
        " 13080319710907901x ",
        "1308 0319 7109 0790 1X",
        "１３０８０３１９７１０９０７９０１ｘ",
        "'13080319710907901X",
    ]:
        values, errors = staff(id_number=raw)
        assert errors == [], raw
        assert values["id_number"] == ID_M


def test_gender_and_birth_date_mismatches():
    _, errors = staff(id_number=ID_F, gender="男")
    assert msgids(errors) == [("gender", v.GENDER_MISMATCH)]
    assert "性别与身份证号不符" in errors[0].translated("zh_CN")
    assert "男" in errors[0].translated("zh_CN") and "女" in errors[0].translated("zh_CN")
    _, errors = staff(birth_date="1971-09-08")
    assert msgids(errors) == [("birth_date", v.BIRTH_MISMATCH)]
    values, errors = staff(gender="男", birth_date="1971年9月7日")
    assert errors == [] and values["birth_date"] == date(1971, 9, 7)


def test_unknown_gender_is_reported_once():
    values, errors = staff(gender="未知")
    assert msgids(errors) == [("gender", v.GENDER_UNKNOWN)]


@pytest.mark.parametrize(
    "raw",
    [
        1.30821197309288e17,
        130821197309288000,
        "1.30821197309288e+17",
        "1.10105E+17",
        "130821197309288000",
        "130821197309288000.0",
    ],
)
def test_id_number_excel_turned_into_a_number(raw):
    _, errors = staff(id_number=raw, gender=None)
    assert msgids(errors) == [("id_number", ID_EXCEL_NUMBER)]
    assert "被Excel转成了数字" in errors[0].translated("zh_CN")
    assert "文本" in errors[0].translated("zh_CN")


def test_wrong_check_digit():
    _, errors = staff(id_number="13080319710907901")  # 17 characters
    assert msgids(errors) == [("id_number", ID_LENGTH)]
    _, errors = staff(id_number="130803197109079011")
    assert msgids(errors) == [("id_number", ID_CHECKSUM)]
    assert "校验位错误" in errors[0].translated("zh_CN")


@pytest.mark.parametrize(
    "phone,stored",
    [
        ("13836356094", "13836356094"),
        (13836356094.0, "13836356094"),
        ("138 3635 6094", "13836356094"),
        ("１３８３６３５６０９４", "13836356094"),
        ("+86 138-3635-6094", "13836356094"),
        ("0314-1234567", "0314-1234567"),
        ("03141234567", "03141234567"),
        ("010-12345678", "010-12345678"),
        ("0314-1234567-801", "0314-1234567-801"),
        ("0314-1234567转801", "0314-1234567-801"),
        ("", None),
    ],
)
def test_valid_phones(phone, stored):
    values, errors = staff(phone=phone)
    assert errors == []
    assert values["phone"] == stored


@pytest.mark.parametrize("phone", ["1383635609", "12836356094", "138363560941", "1234567", "电话", "0314-12345"])
def test_invalid_phones(phone):
    _, errors = staff(phone=phone)
    assert msgids(errors) == [("phone", v.PHONE_INVALID)]


@pytest.mark.parametrize(
    "field,value,msgid", [("status", "借调", v.STATUS_UNKNOWN), ("marital_status", "同居", v.MARITAL_UNKNOWN)]
)
def test_unknown_choices(field, value, msgid):
    _, errors = staff(**{field: value})
    assert msgids(errors) == [(field, msgid)]
    assert value in errors[0].translated("zh_CN")


def test_numbers_from_excel_become_text():
    values, errors = staff(staff_no=1001.0, only_child_certificate_no=5775403)
    assert errors == []
    assert values["staff_no"] == "1001" and values["only_child_certificate_no"] == "5775403"


def test_field_error_translates_nested_labels():
    error = FieldError("gender", v.GENDER_MISMATCH, {"given": v.GENDER_LABELS["M"], "derived": v.GENDER_LABELS["F"]})
    assert error.translated("zh_CN") == "性别与身份证号不符：填写的是男，身份证号显示为女。"
    assert "the row says Male, the ID number says Female" in error.translated("en")


# ---------------------------------------------------------------- family


def member(employee_birth=date(1971, 9, 7), **overrides):
    raw = {"staff_no": "T0001", "relation": "子女", "name": "蔡小明"}
    raw.update(overrides)
    return clean_family_member(raw, today=TODAY, employee_birth_date=employee_birth)


@pytest.mark.parametrize(
    "word,code",
    [
        ("配偶", "spouse"),
        ("丈夫", "spouse"),
        ("妻子", "spouse"),
        ("子女", "child"),
        ("儿子", "child"),
        ("女儿", "child"),
        ("父母", "parent"),
        ("其他", "other"),
        ("spouse", "spouse"),
        ("CHILD", "child"),
    ],
)
def test_relations(word, code):
    values, errors = member(relation=word, employee_birth=None)
    assert errors == []
    assert values["relation"] == code


def test_unknown_or_missing_relation():
    assert msgids(member(relation="朋友")[1]) == [("relation", v.RELATION_UNKNOWN)]
    assert msgids(member(relation="")[1]) == [("relation", v.REQUIRED)]


def test_family_member_needs_only_staff_no_relation_and_name():
    values, errors = member()
    assert errors == []
    assert values["id_number"] is None and values["birth_date"] is None
    assert set(values) == set(v.FAMILY_FIELDS)
    assert msgids(member(name=" ")[1]) == [("name", v.REQUIRED)]


def test_family_id_number_is_checked_and_gives_gender_and_birth():
    values, errors = member(relation="子女", id_number="130803202506076326")
    assert errors == []
    assert (values["gender"], values["birth_date"]) == ("F", date(2025, 6, 7))
    assert msgids(member(id_number="130803202506076327")[1]) == [("id_number", ID_CHECKSUM)]
    assert msgids(member(id_number="130803202506076326", gender="男")[1]) == [("gender", v.GENDER_MISMATCH)]


def test_relation_word_fills_an_empty_gender():
    assert member(relation="儿子")[0]["gender"] == "M"
    assert member(relation="妻子")[0]["gender"] == "F"
    assert member(relation="子女")[0]["gender"] is None


def test_child_born_before_the_parent_is_an_error():
    _, errors = member(birth_date="1970-01-01")
    assert msgids(errors) == [("birth_date", v.CHILD_NOT_AFTER_PARENT)]
    _, errors = member(birth_date="1971-09-07")  # same day
    assert msgids(errors) == [("birth_date", v.CHILD_NOT_AFTER_PARENT)]
    assert member(birth_date="1995-01-01")[1] == []
    assert member(birth_date="1970-01-01", employee_birth=None)[1] == []  # unknown household: no comparison


def test_parent_born_after_the_staff_member_is_an_error():
    _, errors = member(relation="父亲", birth_date="1980-01-01")
    assert msgids(errors) == [("birth_date", v.PARENT_NOT_BEFORE_CHILD)]
    assert member(relation="父母", birth_date="1945-01-01")[1] == []
    # A spouse may be older or younger.
    assert member(relation="配偶", birth_date="1980-01-01")[1] == []


# ---------------------------------------------------------------- uniqueness


def test_existing_conflicts_one_query_each(engine):
    rows = [
        {
            "staff_no": f"T{i:04d}",
            "name": "甲",
            "gender": "M",
            "birth_date": date(1971, 9, 7),
            "id_number": f"ID{i:016d}",
            "status": "active",
            "version": 1,
        }
        for i in range(3)
    ]
    with write_session(engine) as session:
        session.execute(insert(Employee), rows)
    with read_session(engine) as session:
        by_no, by_id = existing_conflicts(session, ["T0001", "T0009", ""], ["ID0000000000000002", "nope"])
        ids = dict(session.execute(Employee.__table__.select().with_only_columns(Employee.staff_no, Employee.id)).all())
        # Above the IN-list limit the same answer comes from one scan.
        many_nos = [f"X{i}" for i in range(3000)] + ["T0002"]
        by_no_many, by_id_many = existing_conflicts(
            session, many_nos, [f"Y{i}" for i in range(3000)] + ["ID0000000000000000"]
        )
    assert by_no == {"T0001": ids["T0001"]}
    assert by_id == {"ID0000000000000002": "T0002"}
    assert by_no_many == {"T0002": ids["T0002"]}
    assert by_id_many == {"ID0000000000000000": "T0000"}


# ---------------------------------------------------------------- the words and numbers old ledgers hold

ID_M_15 = ID_M[:6] + ID_M[8:17]  # 130803710907901: the same man's first-generation number


def test_a_form_refuses_a_fifteen_digit_number_and_offers_its_eighteen_digit_form():
    values, errors = staff(id_number=ID_M_15)
    assert [(e.field, e.msgid, e.params) for e in errors] == [("id_number", v.ID_FIFTEEN_DIGITS, {"converted": ID_M})]
    assert ID_M in errors[0].translated("zh_CN") and "15位" in errors[0].translated("zh_CN")
    assert v.ID_AS_WRITTEN not in values


def test_the_import_converts_a_fifteen_digit_number_and_keeps_the_one_written():
    values, errors = clean_employee(
        {"staff_no": "T1", "name": "蔡晓", "id_number": f" {ID_M_15} "}, today=TODAY, convert_fifteen=True
    )
    assert errors == []
    assert (values["id_number"], values[v.ID_AS_WRITTEN]) == (ID_M, ID_M_15)
    assert (values["gender"], values["birth_date"]) == ("M", date(1971, 9, 7))
    # Excel's number of an old ID is exact (15 digits): converted too.
    values, errors = clean_employee(
        {"staff_no": "T1", "name": "蔡晓", "id_number": float(ID_M_15)}, today=TODAY, convert_fifteen=True
    )
    assert (errors, values["id_number"]) == ([], ID_M)


def test_a_converted_number_is_checked_against_the_row_like_any_other():
    def check(**row):
        raw = {"staff_no": "T1", "name": "蔡晓", "id_number": ID_M_15, **row}
        return msgids(clean_employee(raw, today=TODAY, convert_fifteen=True)[1])

    assert check(birth_date="1971-09-08") == [("birth_date", v.BIRTH_MISMATCH)]
    assert check(birth_date="1971/9/7", gender="男") == []
    assert check(gender="女") == [("gender", v.GENDER_MISMATCH)]
    # Digits 7 to 12 not a date, or no province: refused, in the forms and in the import.
    assert check(id_number="130803710230901") == [("id_number", v.ID_FIFTEEN_INVALID)]
    assert msgids(staff(id_number="990803710907901")[1]) == [("id_number", v.ID_FIFTEEN_INVALID)]
    # A family member's old number: converted as for staff, birth date checked against the household.
    values, errors = clean_family_member(
        {"staff_no": "T1", "relation": "子女", "name": "小明", "id_number": ID_M_15},
        today=TODAY,
        employee_birth_date=date(1975, 1, 1),
        convert_fifteen=True,
    )
    assert values["id_number"] == ID_M and msgids(errors) == [("birth_date", v.CHILD_NOT_AFTER_PARENT)]


@pytest.mark.parametrize(
    "word,code,gender",
    [
        ("爱人", "spouse", None),
        ("爱 人", "spouse", None),
        (" 老公", "spouse", "M"),
        ("老 婆", "spouse", "F"),
        ("先生", "spouse", "M"),
        ("太太", "spouse", "F"),
        ("独生子", "child", "M"),
        ("独生女", "child", "F"),
        ("三子", "child", "M"),
        ("三 女", "child", "F"),
        ("养子", "child", "M"),
        ("养女", "child", "F"),
        ("继子", "child", "M"),
        ("继女", "child", "F"),
        ("父亲", "parent", "M"),
        ("母 亲", "parent", "F"),
        ("岳父", "other", "M"),
        ("岳母", "other", "F"),
        ("公公", "other", "M"),
        ("婆婆", "other", "F"),
    ],
)
def test_the_relation_words_people_write(word, code, gender):
    values, errors = member(relation=word, employee_birth=None)
    assert errors == []
    assert (values["relation"], values["gender"]) == (code, gender)


def test_in_laws_are_not_held_to_the_parents_birth_rule():
    # An in-law is 其他: a mother-in-law younger than the staff member is unusual, not an error.
    assert member(relation="岳母", birth_date="1975-01-01")[1] == []
    assert msgids(member(relation="母亲", birth_date="1975-01-01")[1]) == [("birth_date", v.PARENT_NOT_BEFORE_CHILD)]


@pytest.mark.parametrize("word", ["媳妇", "朋友", "亲戚"])
def test_words_that_name_no_one_relation_are_refused(word):
    assert msgids(member(relation=word)[1]) == [("relation", v.RELATION_UNKNOWN)]


def test_relation_words_by_code_are_what_the_import_accepts():
    every = [w for code in ("spouse", "child", "parent", "other") for w in v.relation_words(code)]
    assert sorted(every) == sorted(w for w in v.RELATION_VALUES if not w.isascii())
    assert "爱人" in v.relation_words("spouse") and "岳父" in v.relation_words("other")
