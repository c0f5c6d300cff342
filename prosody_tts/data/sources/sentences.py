"""A built-in set of original Russian sentences and a seeded sentence generator.

``sentences_ru.txt`` (packaged next to this module) holds original Russian sentences written for
this project, one per line: statements, yes/no and wh-questions, exclamations, enumerations,
sentences with dashes, colons, parenthetical and introductory words, dialogue lines, homographs in
disambiguating contexts (замок/замок, мука/мука, белки/белки, ...), numbers written as digits
(years, dates, times, quantities, percentages, money) and a few words with ё. The aim is text in
which the same phonemes occur in many prosodic contexts, for TTS training and evaluation.

:func:`load_sentences` returns the whole set or one side of a fixed train/held-out split;
:func:`generate_sentences` builds any number (up to :func:`generator_capacity`) of distinct,
grammatical template sentences for benchmarks that need many inputs.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from itertools import combinations
from typing import Literal

__all__ = [
    "HELDOUT_PERCENT",
    "SENTENCE_TYPES",
    "default_training_texts",
    "generate_sentences",
    "generator_capacity",
    "is_heldout",
    "load_sentences",
]

_RESOURCE = "sentences_ru.txt"

#: Percentage of sentences in the held-out split (see :func:`is_heldout`).
HELDOUT_PERCENT = 10


def is_heldout(sentence: str) -> bool:
    """Whether ``sentence`` belongs to the held-out split.

    The split is a pure function of the sentence text: the first 8 bytes of the MD5 digest of its
    UTF-8 encoding, read as a big-endian integer, modulo 100, compared with
    :data:`HELDOUT_PERCENT`. It therefore does not depend on the order of the file, on the Python
    version or on ``PYTHONHASHSEED``, and adding sentences never moves existing ones between splits.
    """
    digest = hashlib.md5(sentence.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100 < HELDOUT_PERCENT


@functools.lru_cache(maxsize=1)
def _all_sentences() -> tuple[str, ...]:
    text = resources.files(__package__).joinpath(_RESOURCE).read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def load_sentences(split: Literal["train", "heldout", "all"] = "all") -> list[str]:
    """Return the packaged Russian sentences, in file order.

    Args:
        split: ``"all"`` for every sentence; ``"heldout"`` for the ~10 % chosen by
            :func:`is_heldout` (a stable MD5 hash of the text); ``"train"`` for the rest. The two
            splits are disjoint and together give ``"all"``.
    """
    sentences = _all_sentences()
    if split == "all":
        return list(sentences)
    if split == "heldout":
        return [s for s in sentences if is_heldout(s)]
    if split == "train":
        return [s for s in sentences if not is_heldout(s)]
    raise ValueError(f"split must be 'train', 'heldout' or 'all', got {split!r}")


# ---------------------------------------------------------------------------------------------
# Template generator
# ---------------------------------------------------------------------------------------------
# Subjects are third person, masculine ("m"), feminine ("f") or plural ("pl"); verbs are
# perfective and carry their past forms (m, f, pl) and future forms (3sg, 3pl), so agreement is
# a table look-up. Every object is an inanimate (or correctly inflected animate) noun phrase in
# the accusative and is listed only with verbs it fits.

_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("мой брат", "m"),
    ("наш сосед", "m"),
    ("старый рыбак", "m"),
    ("папа", "m"),
    ("дедушка", "m"),
    ("молодой учитель", "m"),
    ("Иван", "m"),
    ("Пётр", "m"),
    ("мой друг", "m"),
    ("младший сын", "m"),
    ("моя сестра", "f"),
    ("наша соседка", "f"),
    ("бабушка", "f"),
    ("мама", "f"),
    ("учительница", "f"),
    ("Анна", "f"),
    ("Марина", "f"),
    ("старшая дочь", "f"),
    ("моя подруга", "f"),
    ("тётя Оля", "f"),
    ("мои родители", "pl"),
    ("наши соседи", "pl"),
    ("дети", "pl"),
    ("студенты", "pl"),
    ("друзья", "pl"),
    ("бабушка с дедушкой", "pl"),
    ("ребята", "pl"),
    ("коллеги", "pl"),
    ("внуки", "pl"),
    ("соседские дети", "pl"),
)

_GOODS = (
    "свежий хлеб",
    "новую куртку",
    "тёплый шарф",
    "большой арбуз",
    "корзину яблок",
    "коробку конфет",
    "букет цветов",
    "зимние ботинки",
    "красивую вазу",
)
_FOOD = (
    "вкусный суп",
    "овощной салат",
    "гречневую кашу",
    "куриный бульон",
    "картофельное пюре",
    "рыбные котлеты",
    "праздничный ужин",
    "лёгкий завтрак",
    "горячий борщ",
)
_TEXTS = (
    "интересную книгу",
    "свежую газету",
    "длинное письмо",
    "новый роман",
    "старый журнал",
    "сборник рассказов",
    "статью о космосе",
    "записку от соседа",
    "сказку о медведе",
)
_THINGS = (
    "ключи от дома",
    "старую фотографию",
    "синий зонт",
    "кожаный кошелёк",
    "тёплую перчатку",
    "старый паспорт",
    "записную книжку",
    "детскую игрушку",
    "серебряное кольцо",
)
_SIGHTS = (
    "красивый закат",
    "огромную радугу",
    "стаю журавлей",
    "огни большого города",
    "высокие горы",
    "северное сияние",
    "падающую звезду",
    "старинную крепость",
    "белого медведя",
)
_WRITINGS = (
    "длинное письмо",
    "поздравительную открытку",
    "подробный отчёт",
    "короткое стихотворение",
    "новую песню",
    "сочинение о лете",
    "список покупок",
    "смешной рассказ",
)
_FIXABLES = (
    "старый велосипед",
    "сломанный стул",
    "кухонный кран",
    "настольную лампу",
    "детскую коляску",
    "забор у дома",
    "крышу сарая",
    "дверь в подъезде",
)
_PLANTS = (
    "молодую яблоню",
    "кусты малины",
    "красные тюльпаны",
    "берёзу у калитки",
    "грядку моркови",
    "рассаду помидоров",
    "вишнёвое дерево",
    "душистый укроп",
)
_BAKED = (
    "яблочный пирог",
    "румяные булочки",
    "ржаной хлеб",
    "шоколадный торт",
    "пирожки с капустой",
    "овсяное печенье",
    "сладкие ватрушки",
    "блины со сметаной",
)
_PICTURES = (
    "портрет мамы",
    "зимний пейзаж",
    "смешного кота",
    "море на закате",
    "весёлого клоуна",
    "план квартиры",
    "старую мельницу",
    "букет сирени",
)
_WASHABLES = (
    "всю посуду",
    "грязные окна",
    "старую машину",
    "пол в коридоре",
    "большую кастрюлю",
    "детские ботинки",
    "чайные чашки",
    "плиту на кухне",
)

# (past m, past f, past pl, future 3sg, future 3pl), objects
_VERBS: tuple[tuple[tuple[str, str, str, str, str], tuple[str, ...]], ...] = (
    (("купил", "купила", "купили", "купит", "купят"), _GOODS),
    (("приготовил", "приготовила", "приготовили", "приготовит", "приготовят"), _FOOD),
    (("заказал", "заказала", "заказали", "закажет", "закажут"), _FOOD),
    (("прочитал", "прочитала", "прочитали", "прочитает", "прочитают"), _TEXTS),
    (("нашёл", "нашла", "нашли", "найдёт", "найдут"), _THINGS),
    (("потерял", "потеряла", "потеряли", "потеряет", "потеряют"), _THINGS),
    (("увидел", "увидела", "увидели", "увидит", "увидят"), _SIGHTS),
    (
        ("сфотографировал", "сфотографировала", "сфотографировали", "сфотографирует", "сфотографируют"),
        _SIGHTS,
    ),
    (("написал", "написала", "написали", "напишет", "напишут"), _WRITINGS),
    (("починил", "починила", "починили", "починит", "починят"), _FIXABLES),
    (("посадил", "посадила", "посадили", "посадит", "посадят"), _PLANTS),
    (("испёк", "испекла", "испекли", "испечёт", "испекут"), _BAKED),
    (("нарисовал", "нарисовала", "нарисовали", "нарисует", "нарисуют"), _PICTURES),
    (("вымыл", "вымыла", "вымыли", "вымоет", "вымоют"), _WASHABLES),
)

_PAST_TIMES = (
    "вчера",
    "вчера вечером",
    "сегодня утром",
    "на прошлой неделе",
    "в прошлую субботу",
    "недавно",
    "позавчера",
    "прошлым летом",
    "в прошлом году",
    "три дня назад",
)
_FUTURE_TIMES = (
    "завтра",
    "завтра утром",
    "в понедельник",
    "на следующей неделе",
    "в воскресенье",
    "послезавтра",
    "сегодня вечером",
    "после обеда",
    "через неделю",
    "следующим летом",
)
_WH_WORDS = ("почему", "когда", "где", "как")
# Openers that fit any event, and openers that need an intentional action (not потерял, увидел).
_EXCLAMATION_CLAUSES = ("как хорошо, что", "как жаль, что", "как странно, что", "вот здорово, что")
_EXCLAMATION_ADVERBS = ("как быстро", "наконец-то")

_AGREEMENT = {"m": (0, 3), "f": (1, 3), "pl": (2, 4)}  # gender -> (past index, future index)

# Verbs (by masculine past form) that read oddly with a future time (потеряет) and those that are
# not intentional actions, so "как быстро ..." / "наконец-то ..." do not fit them.
_PAST_ONLY = frozenset({"потерял"})
_NON_AGENTIVE = frozenset({"потерял", "увидел"})

# Flattened factor lists.
_VERB_OBJECTS = tuple((forms, obj) for forms, objects in _VERBS for obj in objects)
_FUTURE_VERB_OBJECTS = tuple(vo for vo in _VERB_OBJECTS if vo[0][0] not in _PAST_ONLY)
_AGENTIVE_VERB_OBJECTS = tuple(vo for vo in _VERB_OBJECTS if vo[0][0] not in _NON_AGENTIVE)
_VERB_TRIPLES = tuple((forms, triple) for forms, objects in _VERBS for triple in combinations(objects, 3))
_FUTURE_VERB_TRIPLES = tuple(vt for vt in _VERB_TRIPLES if vt[0][0] not in _PAST_ONLY)
_PAST = tuple(("past", t) for t in _PAST_TIMES)
_FUTURE = tuple(("future", t) for t in _FUTURE_TIMES)


def _verb(forms: tuple[str, ...], gender: str, tense: str) -> str:
    past, future = _AGREEMENT[gender]
    return forms[past if tense == "past" else future]


def _cap(sentence: str) -> str:
    return sentence[0].upper() + sentence[1:]


def _statement_time_first(subj, vo, time) -> str:
    (s, g), (forms, obj), (tense, t) = subj, vo, time
    return _cap(f"{t} {s} {_verb(forms, g, tense)} {obj}.")


def _statement_time_last(subj, vo, time) -> str:
    (s, g), (forms, obj), (tense, t) = subj, vo, time
    return _cap(f"{s} {_verb(forms, g, tense)} {obj} {t}.")


def _yes_no_question(subj, vo, time) -> str:
    (s, g), (forms, obj), (tense, t) = subj, vo, time
    return _cap(f"{s} {_verb(forms, g, tense)} {obj} {t}?")


def _wh_question(wh, subj, vo, tense) -> str:
    (s, g), (forms, obj) = subj, vo
    return _cap(f"{wh} {s} {_verb(forms, g, tense)} {obj}?")


def _exclamation(opener, subj, vo) -> str:
    (s, g), (forms, obj) = subj, vo
    return _cap(f"{opener} {s} {_verb(forms, g, 'past')} {obj}!")


def _enumeration(subj, vt, time) -> str:
    (s, g), (forms, (a, b, c)), (tense, t) = subj, vt, time
    return _cap(f"{t} {s} {_verb(forms, g, tense)} {a}, {b} и {c}.")


# Each block: (sentence type, factor lists, builder). A block's sentences are the builder applied
# to every element of the Cartesian product of its factors. Blocks differ in word order,
# punctuation, opener or tense, so no two (block, combination) pairs give the same string
# (checked exhaustively by the tests).
_BLOCKS: tuple[tuple[str, tuple[Sequence, ...], Callable[..., str]], ...] = (
    ("statement", (_SUBJECTS, _VERB_OBJECTS, _PAST), _statement_time_first),
    ("statement", (_SUBJECTS, _FUTURE_VERB_OBJECTS, _FUTURE), _statement_time_first),
    ("statement", (_SUBJECTS, _VERB_OBJECTS, _PAST), _statement_time_last),
    ("statement", (_SUBJECTS, _FUTURE_VERB_OBJECTS, _FUTURE), _statement_time_last),
    ("yes_no_question", (_SUBJECTS, _VERB_OBJECTS, _PAST), _yes_no_question),
    ("yes_no_question", (_SUBJECTS, _FUTURE_VERB_OBJECTS, _FUTURE), _yes_no_question),
    ("wh_question", (_WH_WORDS, _SUBJECTS, _VERB_OBJECTS, ("past",)), _wh_question),
    ("wh_question", (_WH_WORDS, _SUBJECTS, _FUTURE_VERB_OBJECTS, ("future",)), _wh_question),
    ("exclamation", (_EXCLAMATION_CLAUSES, _SUBJECTS, _VERB_OBJECTS), _exclamation),
    ("exclamation", (_EXCLAMATION_ADVERBS, _SUBJECTS, _AGENTIVE_VERB_OBJECTS), _exclamation),
    ("enumeration", (_SUBJECTS, _VERB_TRIPLES, _PAST), _enumeration),
    ("enumeration", (_SUBJECTS, _FUTURE_VERB_TRIPLES, _FUTURE), _enumeration),
)

#: Sentence types of the generator, in the order used to balance them.
SENTENCE_TYPES = ("statement", "yes_no_question", "wh_question", "exclamation", "enumeration")


def _block_size(factors: tuple[Sequence, ...]) -> int:
    size = 1
    for factor in factors:
        size *= len(factor)
    return size


def _decode(factors: tuple[Sequence, ...], build: Callable[..., str], index: int) -> str:
    parts = []
    for factor in reversed(factors):
        index, r = divmod(index, len(factor))
        parts.append(factor[r])
    return build(*reversed(parts))


# Per type: its blocks as (size, factors, builder); a type's index space is its blocks in order.
_TYPE_BLOCKS = {
    kind: tuple((_block_size(f), f, b) for k, f, b in _BLOCKS if k == kind) for kind in SENTENCE_TYPES
}
_TYPE_CAPACITY = {kind: sum(size for size, _, _ in blocks) for kind, blocks in _TYPE_BLOCKS.items()}
_CAPACITY = sum(_TYPE_CAPACITY.values())


def generator_capacity() -> int:
    """How many distinct sentences :func:`generate_sentences` can produce."""
    return _CAPACITY


def _decode_in_type(kind: str, index: int) -> str:
    for size, factors, build in _TYPE_BLOCKS[kind]:
        if index < size:
            return _decode(factors, build, index)
        index -= size
    raise IndexError(index)


def _iter_all() -> Iterator[str]:
    """Every sentence the templates can produce (for tests), type by type."""
    for kind in SENTENCE_TYPES:
        for index in range(_TYPE_CAPACITY[kind]):
            yield _decode_in_type(kind, index)


def _allocate(n: int, capacities: Sequence[int]) -> list[int]:
    """Split ``n`` as evenly as possible over bins with the given capacities (water-filling)."""
    alloc = [0] * len(capacities)
    remaining = n
    active = [i for i, c in enumerate(capacities) if c > 0]
    while remaining and active:
        share, extra = divmod(remaining, len(active))
        for j, i in enumerate(active):
            give = min(capacities[i] - alloc[i], share + (1 if j < extra else 0))
            alloc[i] += give
            remaining -= give
        active = [i for i in active if alloc[i] < capacities[i]]
    return alloc


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """Return ``n`` distinct grammatical Russian sentences built from templates.

    The sentences mix five types, balanced as evenly as their capacities allow: statements (two
    word orders), yes/no questions, wh-questions (почему, когда, где, как), exclamations and
    enumerations, in past and future tense, with subject-verb agreement in gender and number.
    Within each type the sentences are a uniform sample without replacement of all its template
    combinations; the final list is shuffled. The result depends only on ``n`` and ``seed``
    (through ``random.Random(seed)``); a larger ``n`` with the same seed is not an extension of
    a smaller one.

    Raises:
        ValueError: if ``n`` is negative or larger than :func:`generator_capacity`.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if n > _CAPACITY:
        raise ValueError(f"cannot generate {n} distinct sentences: the templates produce at most {_CAPACITY}")
    rng = random.Random(seed)
    counts = _allocate(n, [_TYPE_CAPACITY[kind] for kind in SENTENCE_TYPES])
    sentences = [
        _decode_in_type(kind, index)
        for kind, k in zip(SENTENCE_TYPES, counts, strict=True)
        for index in rng.sample(range(_TYPE_CAPACITY[kind]), k)
    ]
    rng.shuffle(sentences)
    return sentences


def default_training_texts(num_generated: int = 20_000) -> list[str]:
    """The texts the packaged BPE tokenizer is trained on (``prosody-tts train-bpe --default``): the built-in sentences and generated ones,
    normalised (numbers spelled out) exactly as the front-end will present them."""
    from ...text.normalizer import RussianNormalizer

    normalizer = RussianNormalizer()
    return [normalizer(text) for text in [*load_sentences("all"), *generate_sentences(num_generated, seed=0)]]
