"""Russian number words with case, gender and number agreement (helpers for the normaliser).

Cardinals and ordinals come from ``num2words`` (its Russian backend, called directly and cached);
this module adds decimals in every case, digit-by-digit reading of very long numbers, noun
agreement (``1 рубль / 2 рубля / 5 рублей``) and the declension tables of the units the
normaliser expands.

Cases are named ``nom gen dat acc ins prep``; genders ``m f n``.
"""

from __future__ import annotations

from functools import lru_cache

from num2words.lang_RU import Num2Word_RU

CASES = ("nom", "gen", "dat", "acc", "ins", "prep")
_N2W_CASE = {"nom": "n", "gen": "g", "dat": "d", "acc": "a", "ins": "i", "prep": "p"}
_RU = Num2Word_RU()

#: Numbers of this many digits or more are read digit by digit (num2words stops at 10**15).
MAX_DIGITS = 16
_DIGITS = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")


def read_digits(digits: str) -> str:
    """``"007"`` -> ``"ноль ноль семь"``."""
    return " ".join(_DIGITS[int(d)] for d in digits)


@lru_cache(maxsize=4096)
def cardinal(n: int, case: str = "nom", gender: str = "m") -> str:
    """Cardinal number in ``case``/``gender`` (accusative is inanimate: ``две тысячи``)."""
    if n < 0:
        return "минус " + cardinal(-n, case, gender)
    if len(str(n)) >= MAX_DIGITS:
        return read_digits(str(n))
    words = _RU.to_cardinal(n, case=_N2W_CASE[case], gender=gender, animate=False)
    if 1000 <= n < 2000:  # "тысяча пятьсот", not "одна тысяча пятьсот"
        words = words.split(" ", 1)[1]
    return words


@lru_cache(maxsize=4096)
def ordinal(n: int, case: str = "nom", gender: str = "m", plural: bool = False) -> str:
    """Ordinal number (``пятый``, ``двадцать пятого``, ``девяностых``)."""
    if n < 0:
        return "минус " + ordinal(-n, case, gender, plural)
    if len(str(n)) >= MAX_DIGITS:
        return read_digits(str(n))
    return _RU.to_ordinal(n, case=_N2W_CASE[case], gender=gender, plural=plural, animate=False)


# Adjective-like endings of "целая" / "десятая" in (singular, plural) for each case.
_FRAC_ENDINGS = {
    "nom": ("ая", "ых"),
    "gen": ("ой", "ых"),
    "dat": ("ой", "ым"),
    "acc": ("ую", "ых"),
    "ins": ("ой", "ыми"),
    "prep": ("ой", "ых"),
}
_DENOMINATORS = {
    1: "десят",
    2: "сот",
    3: "тысячн",
    4: "десятитысячн",
    5: "стотысячн",
    6: "миллионн",
    7: "десятимиллионн",
    8: "стомиллионн",
    9: "миллиардн",
}


def _frac_word(stem: str, n: int, case: str) -> str:
    sg, pl = _FRAC_ENDINGS[case]
    one = n % 10 == 1 and n % 100 != 11
    if case in ("nom", "acc") and not one:
        return stem + "ых"
    return stem + (sg if one else pl)


def decimal(int_part: str, frac_part: str, case: str = "nom", negative: bool = False) -> str:
    """``"3", "5"`` -> ``"три целых пять десятых"`` (in ``case``).

    Fractions longer than nine digits are read digit by digit after ``запятая``.
    """
    sign = "минус " if negative else ""
    whole = int(int_part)
    if len(int_part) >= MAX_DIGITS or len(frac_part) not in _DENOMINATORS:
        return sign + cardinal(whole, case) + " запятая " + read_digits(frac_part)
    frac = int(frac_part)
    return (
        f"{sign}{cardinal(whole, case, 'f')} {_frac_word('цел', whole, case)} "
        f"{cardinal(frac, case, 'f')} {_frac_word(_DENOMINATORS[len(frac_part)], frac, case)}"
    )


class Noun:
    """A noun with its twelve forms, used for units and currency (``рубль``, ``километр``...)."""

    __slots__ = ("forms", "gender", "suffix")

    def __init__(self, sg: str, pl: str, gender: str = "m", suffix: str = ""):
        s = sg.split()
        p = pl.split()
        assert len(s) == 6 and len(p) == 6
        self.forms = {(c, False): s[i] for i, c in enumerate(CASES)}
        self.forms.update({(c, True): p[i] for i, c in enumerate(CASES)})
        self.gender = gender
        #: Words that follow every form unchanged (``Цельсия``, ``в час``).
        self.suffix = suffix

    def form(self, case: str, plural: bool) -> str:
        word = self.forms[(case, plural)]
        return f"{word} {self.suffix}" if self.suffix else word

    def agree(self, n: int | None, case: str, after_multiplier: bool = False) -> str:
        """The form that follows the number ``n`` in ``case`` (``None``: a decimal fraction)."""
        if after_multiplier:
            return self.form("gen", True)
        if n is None:
            return self.form("gen", False)
        return self.form(*agreement(n, case))


def agreement(n: int, case: str) -> tuple[str, bool]:
    """(case, plural) of the noun counted by the cardinal ``n`` standing in ``case``."""
    n = abs(n)
    last, last2 = n % 10, n % 100
    if case in ("nom", "acc"):
        if 11 <= last2 <= 14:
            return "gen", True
        if last == 1:
            return case, False
        if 2 <= last <= 4:
            return "gen", False
        return "gen", True
    if last == 1 and last2 != 11:
        return case, False
    return case, True


def masc_hard(stem: str, suffix: str = "") -> Noun:
    return Noun(
        f"{stem} {stem}а {stem}у {stem} {stem}ом {stem}е",
        f"{stem}ы {stem}ов {stem}ам {stem}ы {stem}ами {stem}ах",
        "m",
        suffix,
    )


def fem_hard(stem: str) -> Noun:
    return Noun(
        f"{stem}а {stem}ы {stem}е {stem}у {stem}ой {stem}е",
        f"{stem}ы {stem} {stem}ам {stem}ы {stem}ами {stem}ах",
        "f",
    )


RUBLE = Noun("рубль рубля рублю рубль рублём рубле", "рубли рублей рублям рубли рублями рублях")
KOPECK = Noun(
    "копейка копейки копейке копейку копейкой копейке",
    "копейки копеек копейкам копейки копейками копейках",
    "f",
)
THOUSAND = Noun(
    "тысяча тысячи тысяче тысячу тысячей тысяче",
    "тысячи тысяч тысячам тысячи тысячами тысячах",
    "f",
)
EURO = Noun("евро " * 6, "евро " * 6)
PERCENT = masc_hard("процент")
DOLLAR = masc_hard("доллар")
POUND = masc_hard("фунт")
DEGREE = masc_hard("градус")
MILLION = masc_hard("миллион")
BILLION = masc_hard("миллиард")
TRILLION = masc_hard("триллион")

#: Units written after a number (keys are the abbreviations, lower case as written).
UNITS: dict[str, Noun] = {
    "км/ч": masc_hard("километр", "в час"),
    "м/с": masc_hard("метр", "в секунду"),
    "км": masc_hard("километр"),
    "м": masc_hard("метр"),
    "см": masc_hard("сантиметр"),
    "мм": masc_hard("миллиметр"),
    "кг": masc_hard("килограмм"),
    "г": masc_hard("грамм"),
    "гр": masc_hard("грамм"),
    "т": fem_hard("тонн"),
    "л": masc_hard("литр"),
    "мл": masc_hard("миллилитр"),
    "ч": masc_hard("час"),
    "мин": fem_hard("минут"),
    "с": fem_hard("секунд"),
    "сек": fem_hard("секунд"),
    "°c": masc_hard("градус", "Цельсия"),
    "°с": masc_hard("градус", "Цельсия"),
    "°f": masc_hard("градус", "по Фаренгейту"),
    "°": DEGREE,
    "%": PERCENT,
    "руб": RUBLE,
    "р": RUBLE,
    "₽": RUBLE,
    "коп": KOPECK,
    "$": DOLLAR,
    "€": EURO,
    "£": POUND,
}
MULTIPLIERS: dict[str, Noun] = {"тыс": THOUSAND, "млн": MILLION, "млрд": BILLION, "трлн": TRILLION}
#: Currency signs written before the number (``$5``).
CURRENCY_SIGNS: dict[str, Noun] = {"$": DOLLAR, "€": EURO, "£": POUND, "₽": RUBLE}

MONTHS_GEN = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
