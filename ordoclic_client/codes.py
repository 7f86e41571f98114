"""Shape and key checks of the codes that cross the Ordoclic boundary (DOMAIN.md §4).

No Django here, so the client, the sandbox and the app share one definition. Each check raises
:class:`InvalidCode` whose ``reason`` is a stable code (the app maps it to a French message) and
returns the normalised value (separators removed, upper case).

* NIR / NIA: 13 characters and a key of 2 digits, ``97 - (first 13 mod 97)`` with ``2A`` read as
  19 and ``2B`` as 18. Beyond the key: the first digit is the sex (1 man, 2 woman; 7 and 8 for a
  temporary NIA); the month is 01-12, or one of the values given when the civil-status record
  does not state the month (20 to 42, 50 and above); the département of birth is 01-95,
  2A / 2B, 96 (Tunisia before independence), 97 / 98 (overseas: a third digit follows) or 99
  (born abroad: a country code follows, never 000). ``00`` is never a département.
* RPPS: 11 digits, Luhn key, and not all zeros (eleven zeros pass Luhn).
* CIS: 8 digits (the product code of the BDPM; real ones start with 6, but the format does not
  promise it, so only the shape is checked). CIP13: ``34009`` + CIP7 + EAN-13 key; UCD13:
  ``34008`` + UCD7 + EAN-13 key.
"""

from __future__ import annotations

import re
from enum import StrEnum

_SEPARATORS = re.compile(r"[\s.\-]")


class InvalidCode(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


# --- NIR / NIA -------------------------------------------------------------------------------

NIR_SEX_DIGITS = {"1": "M", "2": "F", "7": "M", "8": "F"}  # 7 / 8: temporary NIA


def _nir_number(nir13: str) -> int:
    return int(nir13.replace("2A", "19", 1).replace("2B", "18", 1))


def nir_key(nir13: str) -> str:
    return f"{97 - _nir_number(nir13) % 97:02d}"


def _month_ok(month: int) -> bool:
    return 1 <= month <= 12 or 20 <= month <= 42 or month >= 50


def check_nir(value: str) -> str:
    """A NIR or NIA, normalised; raises :class:`InvalidCode` (reasons ``nir_length``,
    ``nir_format``, ``nir_checksum``, ``nir_sex``, ``nir_month``, ``nir_department``)."""
    nir = compact(value)
    if len(nir) != 15:
        raise InvalidCode("nir_length", f"A NIR has 15 characters with its key ({len(nir)}).")
    if not re.fullmatch(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}", nir):
        raise InvalidCode("nir_format", "A NIR is digits only (2A / 2B for Corsica).")
    if nir_key(nir[:13]) != nir[13:]:
        raise InvalidCode("nir_checksum", "The NIR key does not match.")
    if nir[0] not in NIR_SEX_DIGITS:
        raise InvalidCode("nir_sex", f"The first digit of a NIR is 1, 2, 7 or 8, not {nir[0]}.")
    if not _month_ok(int(nir[3:5])):
        raise InvalidCode("nir_month", f"{nir[3:5]} is not a month of birth in a NIR.")
    department, place = nir[5:7], nir[7:10]
    if department == "00" or (department == "99" and place == "000"):
        raise InvalidCode("nir_department", f"{department}{place} is not a place of birth.")
    return nir


def nir_sex(nir: str) -> str:
    """ "M" or "F" from a valid NIR / NIA."""
    return NIR_SEX_DIGITS[nir[0]]


def is_temporary_nia(nir: str) -> bool:
    return nir[:1] in {"7", "8"}


# --- professionals ---------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = int(char)
        if position % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def check_rpps(value: str, *, allowed_test_numbers: frozenset[str] = frozenset()) -> str:
    """An RPPS number, normalised; reasons ``rpps_format``, ``rpps_length``, ``rpps_zeros``,
    ``rpps_checksum``. Known test numbers (Ordoclic staging's fail Luhn) pass as they are."""
    number = compact(value)
    if not number.isdigit():
        raise InvalidCode("rpps_format", "An RPPS number is digits only.")
    if len(number) != 11:
        raise InvalidCode("rpps_length", f"An RPPS number has 11 digits ({len(number)}).")
    if number in allowed_test_numbers:
        return number
    if set(number) == {"0"}:
        raise InvalidCode("rpps_zeros", "An RPPS number is never all zeros.")
    if not luhn_valid(number):
        raise InvalidCode("rpps_checksum", "The RPPS key does not match.")
    return number


# --- drugs -----------------------------------------------------------------------------------


class DrugCodeKind(StrEnum):
    CIS = "cis"
    CIP13 = "cip13"
    UCD13 = "ucd13"


def ean13_key(first12: str) -> str:
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def check_cis(value: str) -> str:
    code = compact(value)
    if not re.fullmatch(r"[0-9]{8}", code):
        raise InvalidCode("cis_format", "A CIS code has 8 digits.")
    return code


def _check_ean(value: str, prefix: str, kind: str) -> str:
    code = compact(value)
    if not re.fullmatch(r"[0-9]{13}", code):
        raise InvalidCode(f"{kind}_format", f"A {kind.upper()} code has 13 digits.")
    if not code.startswith(prefix):
        raise InvalidCode(f"{kind}_prefix", f"A {kind.upper()} code starts with {prefix}.")
    if ean13_key(code[:12]) != code[12]:
        raise InvalidCode(f"{kind}_checksum", f"The {kind.upper()} key (EAN-13) does not match.")
    return code


def check_cip13(value: str) -> str:
    """``34009`` + CIP7 + EAN-13 key; reasons ``cip13_format``, ``cip13_prefix``,
    ``cip13_checksum``."""
    return _check_ean(value, "34009", "cip13")


def check_ucd13(value: str) -> str:
    return _check_ean(value, "34008", "ucd13")


def check_drug_code(value: str) -> tuple[DrugCodeKind, str]:
    """A CIS, CIP13 or UCD13, told apart by its shape, checked, and normalised."""
    code = compact(value)
    if len(code) == 8:
        return DrugCodeKind.CIS, check_cis(code)
    if code.startswith("34008"):
        return DrugCodeKind.UCD13, check_ucd13(code)
    if len(code) == 13:
        return DrugCodeKind.CIP13, check_cip13(code)
    raise InvalidCode(
        "drug_code_format", "A drug code is a CIS (8 digits) or a CIP13 / UCD13 (13 digits)."
    )
