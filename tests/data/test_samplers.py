"""Batch samplers: caps, rank disjointness, determinism, errors, the streaming batcher."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import pytest
import torch

from prosody_tts.data.occurrence_stream import StreamingOccurrenceBatches
from prosody_tts.data.occurrences import OccurrenceIndex, PhonemeOccurrence, phoneme_occurrences
from prosody_tts.data.samplers import MixedPhonemeBatchSampler, SamePhonemeBatchSampler, UtteranceBatchSampler
from prosody_tts.text.inventory import PHONEMES, STRESSED_VOWELS, WORD_BOUNDARY

#: A skewed (Zipf-like) choice of symbols: the first ones are far more frequent.
SYMBOLS = [
    "ɪ",
    "ə",
    "ˈa",
    "a",
    "t",
    "n",
    "s",
    "ˈo",
    "r",
    "v",
    "k",
    "l",
    "m",
    "p",
    "d",
    "tʲ",
    "ˈe",
    "nʲ",
    "j",
    "ɨ",
]
WEIGHTS = [1 / (rank + 1) for rank in range(len(SYMBOLS))]


def make_examples(num: int, seed: int = 0, symbols: list[str] = SYMBOLS) -> list[dict]:
    """Canonical examples with words of inventory phonemes, ``#`` between words, durations
    in 0..5 frames (0-frame phonemes are not occurrences)."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(symbols))]
    examples = []
    for i in range(num):
        phonemes: list[str] = []
        for word in range(rng.randint(2, 5)):
            if word:
                phonemes.append(WORD_BOUNDARY)
            phonemes += rng.choices(symbols, weights, k=rng.randint(2, 6))
        durations = [0 if p == WORD_BOUNDARY else rng.randint(0, 5) for p in phonemes]
        examples.append(
            {
                "id": f"u{i:04d}",
                "speaker": f"spk{i % 3}",
                "audio": f"u{i:04d}.wav",
                "text": "мама мыла раму",
                "phonemes": phonemes,
                "phoneme_durations": durations,
            }
        )
    return examples


def build_index(examples: list[dict], keep_stress: bool = True) -> OccurrenceIndex:
    return OccurrenceIndex.from_occurrences(
        [occ for example in examples for occ in phoneme_occurrences(example)], keep_stress=keep_stress
    )


@pytest.fixture(scope="module")
def examples() -> list[dict]:
    return make_examples(300)


@pytest.fixture(scope="module")
def index(examples) -> OccurrenceIndex:
    return build_index(examples)


def rank_batches(make, world_size: int, epoch: int = 0) -> list[list[list[int]]]:
    """Every rank's batches, from one sampler object per rank (as on separate processes)."""
    out = []
    for rank in range(world_size):
        sampler = make(rank, world_size)
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(sampler) == len(batches)
        out.append(batches)
    return out


def global_batches(per_rank: list[list[list[int]]]) -> list[list[int]]:
    """Check the rank scheme (equal counts, disjoint, each index once) and rebuild global batches."""
    counts = {len(batches) for batches in per_rank}
    assert len(counts) == 1, f"ranks got different batch counts: {counts}"
    used = [i for batches in per_rank for batch in batches for i in batch]
    assert len(used) == len(set(used)), "an index is used twice in an epoch (or shared by ranks)"
    return [[i for part in parts for i in part] for parts in zip(*per_rank, strict=True)]


# ---------------------------------------------------------------------------------- the index
def test_from_occurrences_matches_constructor(examples):
    built = OccurrenceIndex(examples)
    assert not built.skipped
    assert built.occurrences == build_index(examples).occurrences
    assert built.counts() == build_index(examples).counts()
    assert WORD_BOUNDARY not in built.counts()
    merged = build_index(examples, keep_stress=False)
    assert merged.keep_stress is False and "ˈa" not in merged.counts()
    assert merged.counts()["a"] == built.counts()["a"] + built.counts()["ˈa"]


# ---------------------------------------------------------------------------------- mixed
@pytest.mark.parametrize(
    ("batch_size", "world_size", "max_per_phoneme", "max_per_utterance"),
    [(8, 1, 1, None), (4, 2, 1, None), (4, 3, 2, 2), (6, 2, 1, 1)],
)
def test_mixed_batches_respect_caps_and_ranks(
    index, batch_size, world_size, max_per_phoneme, max_per_utterance
):
    def make(rank, ws):
        return MixedPhonemeBatchSampler(
            index,
            batch_size,
            max_per_phoneme=max_per_phoneme,
            max_per_utterance=max_per_utterance,
            seed=3,
            rank=rank,
            world_size=ws,
        )

    per_rank = rank_batches(make, world_size)
    batches = global_batches(per_rank)
    assert len(batches) > 10
    for batch in batches:
        assert len(batch) == batch_size * world_size
        identities = Counter(index[i].identity(index.keep_stress) for i in batch)
        assert max(identities.values()) <= max_per_phoneme
        if max_per_utterance is not None:
            assert max(Counter(index[i].utterance_id for i in batch).values()) <= max_per_utterance
    sampler = make(0, world_size)
    assert [b.tolist() for b in sampler.global_batches()] == batches
    assert sampler.dropped_last_epoch == len(index) - sum(len(b) for b in batches)


def test_mixed_merges_stress_without_keep_stress(examples):
    index = build_index(examples, keep_stress=False)
    sampler = MixedPhonemeBatchSampler(index, 8, seed=1, rank=0, world_size=1)
    for batch in sampler:
        phonemes = [index[i].phoneme.removeprefix("ˈ") for i in batch]
        assert len(set(phonemes)) == len(phonemes)  # never a and ˈa together


def test_mixed_packing_is_near_optimal(index):
    """The greedy packing fills almost as many batches as any packing could (identity bound)."""
    size = 8
    sampler = MixedPhonemeBatchSampler(index, size, rank=0, world_size=1)
    counts = list(index.counts().values())
    bound = max(b for b in range(len(index) // size + 1) if sum(min(c, b) for c in counts) >= size * b)
    assert bound - len(sampler) <= 0.02 * bound


def test_mixed_drop_last_false_keeps_incomplete(index):
    kept = [
        MixedPhonemeBatchSampler(index, 4, rank=r, world_size=2, drop_last=False, max_per_utterance=1)
        for r in (0, 1)
    ]
    strict = MixedPhonemeBatchSampler(index, 4, rank=0, world_size=2, max_per_utterance=1)
    batches = global_batches([list(s) for s in kept])
    assert len(batches) > len(strict)
    assert kept[0].dropped_last_epoch < strict.dropped_last_epoch
    assert all(len(part) >= 1 for s in kept for part in s)
    for batch in batches:
        assert max(Counter(index[i].phoneme for i in batch).values()) == 1
        assert max(Counter(index[i].utterance_id for i in batch).values()) == 1


# ---------------------------------------------------------------------------------- same
@pytest.mark.parametrize(("batch_size", "world_size"), [(8, 1), (4, 2), (3, 3)])
def test_same_batches_one_identity_distinct_utterances(index, batch_size, world_size):
    def make(rank, ws):
        return SamePhonemeBatchSampler(index, batch_size, seed=5, rank=rank, world_size=ws)

    batches = global_batches(rank_batches(make, world_size))
    assert len(batches) > 10
    for batch in batches:
        assert len(batch) == batch_size * world_size
        assert len({index[i].identity() for i in batch}) == 1
        assert len({index[i].utterance_id for i in batch}) == len(batch)
    assert len({index[batch[0]].identity() for batch in batches}) > 5  # identities are interleaved
    sampler = make(0, world_size)
    assert sampler.dropped_last_epoch == len(index) - sum(len(b) for b in batches)


def test_same_reports_unfillable_and_restricts(examples):
    # "ʂ" occurs in only 3 utterances
    rare = [
        dict(ex, phonemes=["ʂ", *ex["phonemes"]], phoneme_durations=[2, *ex["phoneme_durations"]])
        for ex in examples[:3]
    ]
    index = build_index(rare + examples[3:])
    sampler = SamePhonemeBatchSampler(index, 8, rank=0, world_size=1)
    assert "ʂ" in sampler.unfillable_phonemes and sampler.utterances_per_phoneme["ʂ"] == 3
    assert all(index[b[0]].phoneme != "ʂ" for b in sampler)
    only = SamePhonemeBatchSampler(index, 8, rank=0, world_size=1, phonemes=["ˈa", "t"])
    assert only.phonemes == ["t", "ˈa"]
    assert {index[i].phoneme for batch in only for i in batch} == {"ˈa", "t"}
    with pytest.raises(ValueError, match="no phoneme identity occurs in 8 distinct"):
        SamePhonemeBatchSampler(index, 8, rank=0, world_size=1, phonemes=["ʂ"])
    with pytest.raises(ValueError, match="not identities of the index"):
        SamePhonemeBatchSampler(index, 8, rank=0, world_size=1, phonemes=["ʐ"])


# ---------------------------------------------------------------------------------- determinism
SAMPLERS = {
    "mixed": lambda index, **kw: MixedPhonemeBatchSampler(index, 4, **kw),
    "same": lambda index, **kw: SamePhonemeBatchSampler(index, 4, **kw),
    "utterance": lambda index, **kw: UtteranceBatchSampler(len(index), 16, **kw),
}


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_epochs_are_deterministic(index, kind):
    make = SAMPLERS[kind]
    sampler = make(index, seed=7, rank=1, world_size=2)
    epoch0 = list(sampler)
    assert list(sampler) == epoch0  # cached epoch, same batches
    sampler.set_epoch(1)
    epoch1 = list(sampler)
    assert epoch1 != epoch0
    assert len(sampler) == len(epoch1)
    fresh = make(index, seed=7, rank=1, world_size=2)
    assert list(fresh) == epoch0
    fresh.set_epoch(1)
    assert list(fresh) == epoch1
    assert list(make(index, seed=8, rank=1, world_size=2)) != epoch0
    state = sampler.state_dict()
    resumed = make(index, seed=7, rank=1, world_size=2)
    resumed.load_state_dict(state)
    assert resumed.epoch == 1 and list(resumed) == epoch1
    with pytest.raises(ValueError, match="seed=7"):
        make(index, seed=9, rank=1, world_size=2).load_state_dict(state)


# ---------------------------------------------------------------------------------- stage 1
@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_utterance_batches(world_size):
    num = 103

    def make(rank, ws):
        return UtteranceBatchSampler(num, 5, seed=2, rank=rank, world_size=ws)

    batches = global_batches(rank_batches(make, world_size))
    assert len(batches) == num // (5 * world_size)
    assert all(len(batch) == 5 * world_size for batch in batches)
    assert make(0, world_size).dropped_last_epoch == num - len(batches) * 5 * world_size
    kept = [
        UtteranceBatchSampler(num, 5, rank=r, world_size=world_size, drop_last=False)
        for r in range(world_size)
    ]
    everything = global_batches([list(s) for s in kept])
    assert sorted(i for batch in everything for i in batch) == list(range(num))
    ordered = UtteranceBatchSampler(num, 5, shuffle=False, rank=0, world_size=1)
    assert next(iter(ordered)) == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------------------- errors
def test_clear_errors(index):
    identities = len(index.counts())
    with pytest.raises(ValueError, match=r"can never be filled.*max_per_phoneme"):
        MixedPhonemeBatchSampler(index, identities + 1, rank=0, world_size=1)
    with pytest.raises(ValueError, match=r"can never be filled.*max_per_phoneme"):
        MixedPhonemeBatchSampler(index, identities // 2 + 1, rank=0, world_size=2)
    MixedPhonemeBatchSampler(index, identities + 1, max_per_phoneme=2, rank=0, world_size=1)  # fits
    with pytest.raises(ValueError, match="max_per_utterance"):
        MixedPhonemeBatchSampler(index, 4, max_per_utterance=0, rank=0, world_size=1)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        MixedPhonemeBatchSampler(index, 0, rank=0, world_size=1)
    with pytest.raises(ValueError, match="rank < world_size"):
        SamePhonemeBatchSampler(index, 4, rank=2, world_size=2)
    with pytest.raises(ValueError, match="seed"):
        UtteranceBatchSampler(10, 2, seed=-1)
    with pytest.raises(ValueError, match="cannot fill one global batch"):
        UtteranceBatchSampler(10, 4, rank=0, world_size=3)
    with pytest.raises(ValueError, match="epoch"):
        UtteranceBatchSampler(10, 2).set_epoch(-1)
    tiny = build_index(make_examples(2, seed=1))
    with pytest.raises(ValueError, match="utterances x max_per_utterance 1"):
        MixedPhonemeBatchSampler(tiny, 3, max_per_utterance=1, rank=0, world_size=1)
    with pytest.raises(ValueError, match="mode must be one of"):
        StreamingOccurrenceBatches([], 4, mode="other")
    with pytest.raises(ValueError, match="raise buffer_size"):
        StreamingOccurrenceBatches([], 8, mode="same", buffer_size=4)
    with pytest.raises(ValueError, match="can never be filled"):
        StreamingOccurrenceBatches([], len(PHONEMES) + 1)
    with pytest.raises(ValueError, match="'occurrences'"):
        next(iter(StreamingOccurrenceBatches([{"id": "u0"}], 4)))


def test_rank_defaults_without_distributed(index):
    assert not torch.distributed.is_initialized()
    sampler = MixedPhonemeBatchSampler(index, 4)
    assert (sampler.rank, sampler.world_size) == (0, 1)


# ---------------------------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_samplers_drive_a_dataloader(index, kind):
    sampler = SAMPLERS[kind](index, seed=4, rank=0, world_size=2)
    loader = torch.utils.data.DataLoader(index.occurrences, batch_sampler=sampler, collate_fn=lambda x: x)
    assert len(loader) == len(sampler)
    loaded = list(loader)
    assert loaded == [[index[i] for i in batch] for batch in sampler]
    assert all(isinstance(occ, PhonemeOccurrence) for occ in loaded[0])


# ---------------------------------------------------------------------------------- streaming
class Source:
    """A re-iterable stream of examples carrying their occurrences; records set_epoch."""

    def __init__(self, examples: list[dict]) -> None:
        self.examples = [dict(ex, occurrences=phoneme_occurrences(ex)) for ex in examples]
        self.epochs: list[int] = []

    def set_epoch(self, epoch: int) -> None:
        self.epochs.append(epoch)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.examples)


def check_stream(batches: list[list[dict]], batcher: StreamingOccurrenceBatches) -> None:
    keys = [
        (item["occurrence"].utterance_id, item["occurrence"].position) for batch in batches for item in batch
    ]
    assert len(keys) == len(set(keys)), "an occurrence was used twice"
    assert all(
        item["example"]["id"] == item["occurrence"].utterance_id for batch in batches for item in batch
    )
    assert all(len(batch) == batcher.batch_size for batch in batches)
    stats = batcher.stats
    assert stats["used"] == len(keys) and stats["batches"] == len(batches)
    assert stats["used"] + stats["dropped"] == stats["occurrences"]
    assert 0 < batcher.max_buffered <= batcher.buffer_size


@pytest.mark.parametrize(("max_per_phoneme", "buffer_size"), [(1, 8), (2, 32)])
def test_streaming_mixed(examples, max_per_phoneme, buffer_size):
    batcher = StreamingOccurrenceBatches(
        Source(examples), 8, mode="mixed", max_per_phoneme=max_per_phoneme, buffer_size=buffer_size, seed=1
    )
    batches = list(batcher)
    assert len(batches) > 10
    check_stream(batches, batcher)
    for batch in batches:
        assert max(Counter(item["occurrence"].identity() for item in batch).values()) <= max_per_phoneme
    assert batcher.max_buffered == buffer_size and batcher.stats["evicted_oldest"] > 0


@pytest.mark.parametrize("buffer_size", [8, 64])
def test_streaming_same(examples, buffer_size):
    batcher = StreamingOccurrenceBatches(Source(examples), 6, mode="same", buffer_size=buffer_size, seed=2)
    batches = list(batcher)
    assert len(batches) > 10
    check_stream(batches, batcher)
    for batch in batches:
        assert len({item["occurrence"].identity() for item in batch}) == 1
        assert len({item["occurrence"].utterance_id for item in batch}) == len(batch)
    restricted = StreamingOccurrenceBatches(
        Source(examples), 6, mode="same", phonemes=["t"], buffer_size=buffer_size
    )
    assert {item["occurrence"].phoneme for batch in restricted for item in batch} == {"t"}


def test_streaming_epochs_and_dataloader(examples):
    source = Source(examples[:120])
    batcher = StreamingOccurrenceBatches(source, 6, buffer_size=16, seed=3)

    def ids(batches):
        return [[(i["occurrence"].utterance_id, i["occurrence"].position) for i in b] for b in batches]

    first = ids(batcher)
    assert ids(batcher) == first  # same epoch, same batches
    batcher.set_epoch(1)
    assert source.epochs == [1]
    second = ids(batcher)
    assert second != first
    assert ids(StreamingOccurrenceBatches(Source(examples[:120]), 6, buffer_size=16, seed=3)) == first
    loader = torch.utils.data.DataLoader(batcher, batch_size=None, collate_fn=lambda x: x)
    assert ids(loader) == second


def test_streaming_all_vowels_in_same_mode_with_stress_merged(examples):
    vowels = [v.removeprefix("ˈ") for v in STRESSED_VOWELS]
    batcher = StreamingOccurrenceBatches(Source(examples), 4, mode="same", keep_stress=False, phonemes=vowels)
    batches = list(batcher)
    assert batches and all(
        len({item["occurrence"].phoneme.removeprefix("ˈ") for item in batch}) == 1 for batch in batches
    )
    assert any(len({item["occurrence"].phoneme for item in batch}) == 2 for batch in batches)  # a with ˈa
    assert batcher.stats["used"] + batcher.stats["dropped"] == batcher.stats["occurrences"]
