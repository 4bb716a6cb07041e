"""Free text people type or import: how a value becomes text, and the one check of it.

`checked_text` trims a value, refuses it when it is required and empty or longer
than its column holds, and returns it (None for empty).  A refusal is a
ValidationError carrying one FieldError, so a form that gathers every problem
adds `err.problems` to its list and one that refuses at once lets it go.  What
the refusals say differs between parts of the app (their msgids are keyed in the
catalogs), so each caller passes its `TextMessages`; with a `label`, both
messages get it as `{field}`.

Maximum lengths come from the models (`column_length`), not repeated numbers.
A spreadsheet cell is made text by `text_of` before it is checked.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, overload

from sqlalchemy.orm import QueryableAttribute

from services.core.errors import FieldError, ValidationError
from services.core.i18n import N_, Msg


@dataclass(frozen=True)
class TextMessages:
    """What a text field's refusals say: `required` when it is empty, `too_long`
    (with `{max}`) when it is longer than allowed."""

    required: Msg
    too_long: Msg


# The study-session and leaflet forms' wording.
FORM_TEXT = TextMessages(required=N_("This field is required."), too_long=N_("At most {max} characters."))


def column_length(column: QueryableAttribute[Any]) -> int:
    """The size of a model's text column (`Field(max_length=n)`, `sa_column=Column(String(n))`)."""
    length = getattr(column.type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no maximum length")
    return length


def stripped(value: Any) -> str:
    """A typed value as trimmed text; None is empty."""
    return str(value).strip() if value is not None else ""


def text_of(value: Any) -> str:
    """A cell as trimmed text: full-width to half-width (NFKC), whole floats
    without `.0` (Excel stores typed numbers as floats), dates as YYYY-MM-DD,
    None and NaN (from pandas) empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = str(value)
    elif isinstance(value, float):
        if value != value:  # NaN from pandas
            return ""
        text = f"{value:.0f}" if value.is_integer() else repr(value)
    elif isinstance(value, datetime):
        text = value.date().isoformat() if not (value.hour or value.minute or value.second) else value.isoformat(" ")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.strip()


def same_name(a: Any, b: Any) -> bool:
    """Whether two written names are the same name: compared as cells are read
    (NFKC, trimmed), spaces inside left out (王 芳 and 王芳 are one person)."""
    return "".join(text_of(a).split()) == "".join(text_of(b).split())


@overload
def checked_text(
    value: Any,
    field: str,
    max_length: int,
    *,
    required: Literal[True],
    messages: TextMessages = ...,
    label: Msg | None = ...,
) -> str: ...


@overload
def checked_text(
    value: Any,
    field: str,
    max_length: int,
    *,
    required: bool = ...,
    messages: TextMessages = ...,
    label: Msg | None = ...,
) -> str | None: ...


def checked_text(
    value: Any,
    field: str,
    max_length: int,
    *,
    required: bool = False,
    messages: TextMessages = FORM_TEXT,
    label: Msg | None = None,
) -> str | None:
    """`value` trimmed (see `stripped`), None when empty.

    Raises ValidationError (its `field` and one FieldError are `field`) when
    `required` and empty, or longer than `max_length`: messages.required with
    no parameters, messages.too_long with `max`; both also with `field`=`label`
    when a label is given.
    """
    text = stripped(value)
    labelled: dict[str, Any] = {} if label is None else {"field": label}
    if required and not text:
        raise ValidationError.from_problems([FieldError(field, messages.required, labelled)])
    if len(text) > max_length:
        raise ValidationError.from_problems([FieldError(field, messages.too_long, {**labelled, "max": max_length})])
    return text or None
