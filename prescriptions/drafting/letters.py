"""Numbers in full French letters, as a secure prescription writes them ("vingt-huit (28)
comprimés", CSP art. R5132-29: the dosage, the number of units per intake, the number of intakes
and the duration of a narcotic are written in full letters).

Traditional spelling (hyphens below a hundred, "et un" in 21 ... 71, "quatre-vingts" and
"deux cents" with their plural s only at the end of the number, "mille" invariable), which is what
prescribers and pharmacists read. A feminine noun takes "une" (vingt et une gélules)."""

from __future__ import annotations

from decimal import Decimal

_UNITS = (
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix-sept",
    "dix-huit",
    "dix-neuf",
)
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix ..., quatre-vingt-dix ...
        base = "soixante" if tens == 7 else "quatre-vingt"
        if n == 71:
            return "soixante et onze"
        return f"{base}-{_UNITS[10 + unit]}"
    if tens == 8:
        return "quatre-vingts" if unit == 0 else f"quatre-vingt-{_UNITS[unit]}"
    if unit == 0:
        return _TENS[tens]
    if unit == 1:
        return f"{_TENS[tens]} et un"
    return f"{_TENS[tens]}-{_UNITS[unit]}"


def _below_1000(n: int, *, final: bool) -> str:
    """``final``: nothing follows (the plural s of "quatre-vingts" / "deux cents" stays)."""
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        if hundreds == 1:
            words.append("cent")
        else:
            words.append(f"{_UNITS[hundreds]} cent" + ("s" if rest == 0 and final else ""))
    if rest or not hundreds:
        part = _below_100(rest)
        if not final and part.endswith("quatre-vingts"):
            part = part[:-1]
        words.append(part)
    return " ".join(words)


def integer_words(n: int, *, feminine: bool = False) -> str:
    """``n`` (0 to 999 999 999) in full French letters."""
    if not 0 <= n < 1_000_000_000:
        raise ValueError(f"{n} is out of range")
    if n == 0:
        return "zéro"
    millions, rest = divmod(n, 1_000_000)
    thousands, units = divmod(rest, 1000)
    words = []
    if millions:
        name = "million" if millions == 1 else "millions"
        words.append(f"{_below_1000(millions, final=True)} {name}")
    if thousands:
        # "mille" is invariable and never "un mille"; "quatre-vingt mille", "deux cent mille"
        words.append("mille" if thousands == 1 else f"{_below_1000(thousands, final=False)} mille")
    if units:
        words.append(_below_1000(units, final=True))
    text = " ".join(words)
    if feminine and (text == "un" or text.endswith((" un", "-un"))):
        text += "e"  # vingt et une gélules, trente et une; never "une million"
    return text


def number_words(value: Decimal | int, *, feminine: bool = False) -> str:
    """An integer or a decimal ("deux virgule cinq") in full French letters."""
    number = Decimal(value)
    if number < 0:
        raise ValueError("negative")
    normalised = number.normalize()
    if normalised == normalised.to_integral_value():
        return integer_words(int(normalised), feminine=feminine)
    whole, _, fraction = f"{normalised:f}".partition(".")
    # the decimals read as a number ("zéro virgule vingt-cinq"), their leading zeros one by one
    leading = len(fraction) - len(fraction.lstrip("0"))
    decimals = " ".join(["zéro"] * leading + [integer_words(int(fraction))])
    return f"{integer_words(int(whole), feminine=feminine)} virgule {decimals}"


def number_in_letters(value: Decimal | int, *, feminine: bool = False) -> str:
    """Letters then figures, as written on a secure prescription: "vingt-huit (28)"."""
    number = Decimal(value).normalize()
    figures = f"{number:f}".replace(".", ",")
    return f"{number_words(number, feminine=feminine)} ({figures})"


# Units a posology counts in: (singular, plural, feminine). Abbreviations are written out.
_UNIT_NAMES: dict[str, tuple[str, str, bool]] = {
    "comprimé": ("comprimé", "comprimés", False),
    "gélule": ("gélule", "gélules", True),
    "capsule": ("capsule", "capsules", True),
    "sachet": ("sachet", "sachets", False),
    "suppositoire": ("suppositoire", "suppositoires", False),
    "ampoule": ("ampoule", "ampoules", True),
    "bouffée": ("bouffée", "bouffées", True),
    "pulvérisation": ("pulvérisation", "pulvérisations", True),
    "goutte": ("goutte", "gouttes", True),
    "dose": ("dose", "doses", True),
    "patch": ("patch", "patchs", False),
    "dispositif": ("dispositif", "dispositifs", False),
    "unité": ("unité", "unités", True),
    "flacon": ("flacon", "flacons", False),
    "seringue": ("seringue", "seringues", True),
    "ml": ("millilitre", "millilitres", False),
    "mg": ("milligramme", "milligrammes", False),
    "g": ("gramme", "grammes", False),
    "µg": ("microgramme", "microgrammes", False),
    "mcg": ("microgramme", "microgrammes", False),
}


def unit_name(unit: str, quantity: Decimal | int) -> tuple[str, bool]:
    """The unit written out, singular or plural for ``quantity``, and whether it is feminine."""
    key = unit.strip().lower()
    singular, plural, feminine = _UNIT_NAMES.get(key, (key, key, False))
    return (plural if Decimal(quantity) >= 2 else singular), feminine


def quantity_in_letters(quantity: Decimal | int, unit: str) -> str:
    """ "vingt-huit (28) comprimés", "vingt et une (21) gélules"."""
    name, feminine = unit_name(unit, quantity)
    return f"{number_in_letters(quantity, feminine=feminine)} {name}".strip()
