"""Held-out retrieval: does a phoneme's text embedding pick its own audio segment out of N?

The protocol (``docs/retrieval.md``): every held-out phoneme occurrence is a *text anchor* (the
text tower's state at that phoneme, in its utterance). Its *true* candidate is the same
occurrence's audio segment (its frames through the ECAPA tower); ``N - 1`` *distractors* are
drawn with a seeded generator:

* **R@1-diff**: segments of a *different* phoneme identity, from anywhere in the split — can the
  model tell phonemes apart?
* **R@1-sim**: segments of the *same* identity from *other utterances* — only context (prosody,
  position, neighbours) separates them. Anchors whose identity has fewer than ``N - 1`` such
  segments are left out of the -sim metrics and counted in ``skipped_sim`` (N never changes).

Candidates are ranked by cosine similarity. Ties are broken uniformly at random *in expectation*
(the metrics are the expected values over tie orders), so a collapsed model that gives every
segment the same embedding scores exactly chance, neither 0 nor 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..data.occurrences import PhonemeOccurrence

__all__ = [
    "OccurrenceEmbeddings",
    "RetrievalCandidates",
    "RetrievalResult",
    "chance_levels",
    "compute_occurrence_embeddings",
    "evaluate_retrieval",
    "sample_candidates",
    "score_candidates",
]

#: R@k reported besides R@1.
TOP_K = 5
#: Pools of at most ``max(k * k, SMALL_POOL_MIN)`` items are sampled by random keys, larger ones by rejection.
SMALL_POOL_MIN = 64
#: Anchor rows handled at once when sampling by random keys / scoring (memory: rows × pool or rows × N × D).
SAMPLING_CHUNK = 2048
SCORING_CHUNK = 4096


# ---------------------------------------------------------------------------------- embeddings
@dataclass
class OccurrenceEmbeddings:
    """Text and audio embeddings of every phoneme occurrence of a split (row i = occurrence i).

    Attributes:
        text: (M, D) float32, L2-normalised text-anchor embeddings.
        audio: (M, D) float32, L2-normalised audio-segment embeddings.
        identities: (M,) phoneme identity of each occurrence (with stress when ``keep_stress``).
        utterance_ids: (M,) the utterance each occurrence belongs to.
        occurrences: the :class:`PhonemeOccurrence` objects (may be empty for hand-made embeddings).
        keep_stress: how ``identities`` were formed.
    """

    text: torch.Tensor
    audio: torch.Tensor
    identities: list[str]
    utterance_ids: list[str]
    occurrences: list[PhonemeOccurrence] = field(default_factory=list)
    keep_stress: bool = True

    def __post_init__(self) -> None:
        if self.text.dim() != 2 or self.text.shape != self.audio.shape:
            raise ValueError(
                f"text and audio embeddings must both be (M, D), got {tuple(self.text.shape)} and {tuple(self.audio.shape)}"
            )
        m = self.text.shape[0]
        if len(self.identities) != m or len(self.utterance_ids) != m:
            raise ValueError(
                f"{m} embeddings but {len(self.identities)} identities and {len(self.utterance_ids)} utterance ids"
            )
        if self.occurrences and len(self.occurrences) != m:
            raise ValueError(f"{m} embeddings but {len(self.occurrences)} occurrences")

    def __len__(self) -> int:
        return self.text.shape[0]

    def regroup(self, keep_stress: bool) -> OccurrenceEmbeddings:
        """The same embeddings with identities formed with/without stress (needs ``occurrences``)."""
        if keep_stress == self.keep_stress:
            return self
        if not self.occurrences:
            raise ValueError("cannot regroup identities without the occurrences; build the embeddings with them")
        identities = [occ.identity(keep_stress) for occ in self.occurrences]
        return OccurrenceEmbeddings(
            self.text, self.audio, identities, self.utterance_ids, self.occurrences, keep_stress
        )


def _check_corpus(corpus: Any) -> None:
    if not (hasattr(corpus, "rows") and hasattr(corpus, "row_of")):
        raise TypeError(f"corpus must be a PreparedCorpus (prepare_corpus), got {type(corpus).__name__}")


def _occurrence_collator(model: torch.nn.Module, processor: Any, speaker_to_id: Mapping[str, int] | None):
    from ..data.collators import DualStreamCollator, OccurrenceCollator

    with_ids = getattr(model.config, "speaker_source", None) == "ids"
    if with_ids and speaker_to_id is None:
        raise ValueError(
            "a speaker_source='ids' model needs the speaker_to_id mapping it was trained with (speaker_to_id=...)"
        )
    mapping = dict(speaker_to_id) if with_ids else None
    if processor is not None:
        base = DualStreamCollator.from_processor(processor, speaker_to_id=mapping)
    else:  # pad values never reach the outputs (both towers are mask-aware); the model's pad id is enough
        pad_id = getattr(getattr(model.config, "text_config", None), "pad_token_id", None) or 0
        base = DualStreamCollator(phoneme_pad_id=pad_id, speaker_to_id=mapping)
    return OccurrenceCollator(base, with_speaker_ids=with_ids, return_identities=True)


def _embed_batches(
    model: torch.nn.Module,
    corpus: Any,
    batches: list[list[str]],
    by_utterance: dict[str, list[int]],
    occurrences: list[PhonemeOccurrence],
    collator: Any,
    device: torch.device,
    dtype: torch.dtype,
    show_progress: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) unit text and audio embeddings of every occurrence, one forward pass per utterance batch."""
    from tqdm.auto import tqdm

    from ..modeling.loading import evaluating

    text_out: torch.Tensor | None = None
    audio_out: torch.Tensor | None = None
    with evaluating(model, device), torch.inference_mode():
        for batch_ids in tqdm(batches, desc="embedding occurrences", unit="batch", disable=not show_progress):
            rows = {uid: corpus.row(uid) for uid in batch_ids}
            numbers = [n for uid in batch_ids for n in by_utterance[uid]]
            items = [{"example": rows[occurrences[n].utterance_id], "occurrence": occurrences[n]} for n in numbers]
            batch = collator(items)
            batch.pop("phonemes"), batch.pop("ids")
            inputs = {
                key: value.to(device, dtype=dtype if value.is_floating_point() else None)
                for key, value in batch.items()
            }
            output = model(**inputs, return_loss=False, return_dict=True)
            text = F.normalize(output.text_embeds.float(), dim=-1).cpu()  # (n, D)
            audio = F.normalize(output.audio_embeds.float(), dim=-1).cpu()
            if text_out is None:
                text_out = torch.empty(len(occurrences), text.shape[1])
                audio_out = torch.empty(len(occurrences), audio.shape[1])
            positions = torch.tensor(numbers)
            text_out[positions] = text
            audio_out[positions] = audio
    assert text_out is not None and audio_out is not None
    return text_out, audio_out


def compute_occurrence_embeddings(
    model: Any,
    corpus: Any,
    index: Any = None,
    *,
    batch_size: int = 16,
    device: str | torch.device | None = None,
    show_progress: bool = True,
    speaker_to_id: Mapping[str, int] | None = None,
    processor: Any = None,
) -> OccurrenceEmbeddings:
    """Embed every occurrence of a prepared split on both sides of the contrastive model.

    One forward pass per ``batch_size`` utterances covers all their occurrences, so each text
    anchor sees its full utterance context and each segment comes from its utterance's frames.
    The model runs in eval mode under ``torch.inference_mode``; its training flag is restored.

    Args:
        model: a ``ProsodyContrastiveModel`` or its ``save_pretrained`` directory.
        corpus: a :class:`~prosody_tts.data.prepared.PreparedCorpus`.
        index: an ``OccurrenceIndex`` (or a list of occurrences) of ``corpus``; default
            ``occurrence_index(corpus)`` (all occurrences, stress kept).
        batch_size: utterances per forward pass.
        device: where to run; default the model's device.
        speaker_to_id: the training speaker → id mapping (``speaker_source="ids"`` models only).
        processor: a ``DualStreamProcessor`` for the pad values; default the model's pad id
            (padding is masked in both towers, so the values do not change the embeddings).
    """

    from ..data.occurrences import occurrence_index

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    from ..modeling.contrastive import ProsodyContrastiveModel
    from ..modeling.loading import load_model

    model = load_model(model, ProsodyContrastiveModel)
    _check_corpus(corpus)
    if index is None:
        index = occurrence_index(corpus)
    occurrences: list[PhonemeOccurrence] = list(index)
    keep_stress = bool(getattr(index, "keep_stress", True))
    if not occurrences:
        raise ValueError("the split has no phoneme occurrences to embed")
    collator = _occurrence_collator(model, processor, speaker_to_id)

    by_utterance: dict[str, list[int]] = {}
    for number, occ in enumerate(occurrences):
        by_utterance.setdefault(occ.utterance_id, []).append(number)
    missing = [uid for uid in by_utterance if uid not in corpus.row_of]
    if missing:
        raise ValueError(f"{len(missing)} indexed utterances are not in the corpus, e.g. {missing[:3]}")
    utterances = list(by_utterance)
    batches = [utterances[i : i + batch_size] for i in range(0, len(utterances), batch_size)]

    parameter = next(model.parameters())
    device = torch.device(device) if device is not None else parameter.device
    text_out, audio_out = _embed_batches(
        model, corpus, batches, by_utterance, occurrences, collator, device, parameter.dtype, show_progress
    )
    assert text_out is not None and audio_out is not None
    return OccurrenceEmbeddings(
        text=text_out,
        audio=audio_out,
        identities=[occ.identity(keep_stress) for occ in occurrences],
        utterance_ids=[occ.utterance_id for occ in occurrences],
        occurrences=occurrences,
        keep_stress=keep_stress,
    )


# ---------------------------------------------------------------------------------- candidates
@dataclass
class RetrievalCandidates:
    """Which segments each anchor is ranked against (occurrence indices; column 0 = the true one).

    Attributes:
        anchors: (A,) occurrences evaluated (all, or a seeded ``max_anchors`` subset), sorted.
        diff: (A, N) candidates of the -diff task; columns 1.. have other identities.
        sim_anchors: (A_sim,) the anchors with enough same-identity segments in other utterances.
        sim: (A_sim, N) candidates of the -sim task; columns 1.. same identity, other utterances.
        skipped_sim: anchors left out of the -sim task (``A - A_sim``).
    """

    anchors: np.ndarray
    diff: np.ndarray
    sim_anchors: np.ndarray
    sim: np.ndarray
    skipped_sim: int


def _sample_distinct(rng: np.random.Generator, pool_sizes: np.ndarray, k: int) -> np.ndarray:
    """(A, k) positions, row a: k distinct draws, uniform without replacement, from ``range(pool_sizes[a])``."""
    rows = pool_sizes.shape[0]
    out = np.zeros((rows, k), dtype=np.int64)
    if rows == 0 or k == 0:
        return out
    if int(pool_sizes.min()) < k:
        raise ValueError(f"a pool of {int(pool_sizes.min())} items cannot give {k} distinct draws")
    small = pool_sizes <= max(k * k, SMALL_POOL_MIN)
    small_rows = np.flatnonzero(small)
    for start in range(0, small_rows.size, SAMPLING_CHUNK):  # random keys: the k smallest of a row
        chunk = small_rows[start : start + SAMPLING_CHUNK]
        sizes = pool_sizes[chunk]
        keys = rng.random((chunk.size, int(sizes.max())))
        keys[np.arange(keys.shape[1])[None, :] >= sizes[:, None]] = np.inf
        out[chunk] = np.argpartition(keys, k - 1, axis=1)[:, :k]
    pending = np.flatnonzero(~small)  # rejection: redraw rows with a repeat (rare: pool > k^2)
    while pending.size:
        sizes = pool_sizes[pending]
        draws = np.floor(rng.random((pending.size, k)) * sizes[:, None]).astype(np.int64)
        draws = np.minimum(draws, sizes[:, None] - 1)
        out[pending] = draws
        ordered = np.sort(draws, axis=1)
        pending = pending[(ordered[:, 1:] == ordered[:, :-1]).any(axis=1)]
    return out


def sample_candidates(
    identities: Sequence[str],
    utterance_ids: Sequence[str],
    *,
    num_candidates: int = 32,
    seed: int = 0,
    max_anchors: int | None = None,
) -> RetrievalCandidates:
    """Draw the candidate sets of the -diff and -sim tasks (deterministic for a seed).

    Raises:
        ValueError: ``num_candidates < 2``, ``max_anchors < 1``, mismatched lengths, or an anchor
            whose identity leaves fewer than ``num_candidates - 1`` segments of other identities.
    """
    if num_candidates < 2:
        raise ValueError(f"num_candidates must be >= 2 (the true segment and a distractor), got {num_candidates}")
    if max_anchors is not None and max_anchors < 1:
        raise ValueError(f"max_anchors must be None or >= 1, got {max_anchors}")
    if len(identities) != len(utterance_ids):
        raise ValueError(f"{len(identities)} identities but {len(utterance_ids)} utterance ids")
    total = len(identities)
    if total == 0:
        raise ValueError("no occurrences to evaluate")
    k = num_candidates - 1
    anchor_rng, diff_rng, sim_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))

    names, identity = np.unique(np.asarray(identities, dtype=object).astype(str), return_inverse=True)
    _, utterance = np.unique(np.asarray(utterance_ids, dtype=object).astype(str), return_inverse=True)
    identity, utterance = identity.astype(np.int64), utterance.astype(np.int64)
    order = np.lexsort((np.arange(total), utterance, identity))  # grouped by identity, then utterance
    key = identity * (int(utterance.max()) + 1) + utterance
    sorted_identity, sorted_key = identity[order], key[order]

    if max_anchors is None or max_anchors >= total:
        anchors = np.arange(total, dtype=np.int64)
    else:
        anchors = np.sort(anchor_rng.choice(total, size=max_anchors, replace=False)).astype(np.int64)
    group_start = np.searchsorted(sorted_identity, identity[anchors], side="left")
    group_size = np.searchsorted(sorted_identity, identity[anchors], side="right") - group_start
    block_start = np.searchsorted(sorted_key, key[anchors], side="left")
    block_size = np.searchsorted(sorted_key, key[anchors], side="right") - block_start

    # -diff: the complement of the anchor's identity block in `order`
    diff_pool = total - group_size
    if int(diff_pool.min()) < k:
        worst = int(np.argmin(diff_pool))
        raise ValueError(
            f"identity {names[identity[anchors[worst]]]!r} leaves only {int(diff_pool[worst])} segments of other "
            f"identities in the split; num_candidates={num_candidates} needs {k}"
        )
    position = _sample_distinct(diff_rng, diff_pool, k)
    position = position + group_size[:, None] * (position >= group_start[:, None])
    diff = np.concatenate([anchors[:, None], order[position]], axis=1)

    # -sim: the anchor's identity block minus its own utterance's sub-block
    sim_pool = group_size - block_size
    eligible = sim_pool >= k
    rows = np.flatnonzero(eligible)
    position = _sample_distinct(sim_rng, sim_pool[rows], k)
    offset = (block_start - group_start)[rows]
    position = position + block_size[rows, None] * (position >= offset[:, None]) + group_start[rows, None]
    sim = np.concatenate([anchors[rows, None], order[position]], axis=1)
    return RetrievalCandidates(
        anchors=anchors, diff=diff, sim_anchors=anchors[rows], sim=sim, skipped_sim=int((~eligible).sum())
    )


# ---------------------------------------------------------------------------------- scoring
def _harmonic(n: int) -> float:
    return float(sum(1.0 / i for i in range(1, n + 1)))


def chance_levels(num_candidates: int, k: int = TOP_K) -> dict[str, float]:
    """Expected R@1, R@k and MRR of a random ranking of N candidates: 1/N, min(k, N)/N, H_N/N."""
    n = num_candidates
    return {"r1": 1.0 / n, f"r{k}": min(k, n) / n, "mrr": _harmonic(n) / n}


def score_candidates(
    text: torch.Tensor,
    audio: torch.Tensor,
    anchors: np.ndarray | torch.Tensor,
    candidates: np.ndarray | torch.Tensor,
    *,
    k: int = TOP_K,
    chunk_size: int = SCORING_CHUNK,
) -> dict[str, torch.Tensor]:
    """Per-anchor expected R@1, R@k and reciprocal rank of the true candidate (column 0).

    ``score[a, j] = text[anchors[a]] · audio[candidates[a, j]]`` (cosine for normalised rows),
    computed as one gather + batched dot product per chunk of anchors. With ``g`` distractors
    scoring above the true segment and ``t`` tying with it, the rank is uniform on
    ``g+1 … g+t+1``: R@1 = [g = 0]/(t+1), R@k = clamp(k-g, 0, t+1)/(t+1),
    RR = (H_{g+t+1} - H_g)/(t+1).

    Returns:
        ``{"r1": (A,), "r{k}": (A,), "rr": (A,)}`` float64 tensors.
    """
    anchors_t = torch.as_tensor(anchors, dtype=torch.long)
    candidates_t = torch.as_tensor(candidates, dtype=torch.long)
    if candidates_t.dim() != 2 or candidates_t.shape[0] != anchors_t.shape[0]:
        raise ValueError(f"candidates must be (A, N) with A = {anchors_t.shape[0]}, got {tuple(candidates_t.shape)}")
    n = candidates_t.shape[1]
    harmonic = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(1.0 / torch.arange(1, n + 1, dtype=torch.float64), 0)])
    greater_all, ties_all = [], []
    for start in range(0, anchors_t.shape[0], chunk_size):
        a = anchors_t[start : start + chunk_size]
        c = candidates_t[start : start + chunk_size]
        scores = torch.einsum("ad,and->an", text[a], audio[c])  # (a, N)
        true = scores[:, :1]
        greater_all.append((scores[:, 1:] > true).sum(1))
        ties_all.append((scores[:, 1:] == true).sum(1))
    if not greater_all:
        empty = torch.zeros(0, dtype=torch.float64)
        return {"r1": empty, f"r{k}": empty, "rr": empty}
    greater = torch.cat(greater_all).to(torch.float64)
    ties = torch.cat(ties_all).to(torch.float64)
    span = ties + 1
    r1 = (greater == 0).to(torch.float64) / span
    rk = (k - greater).clamp(min=0).minimum(span) / span
    rr = (harmonic[(greater + span).long()] - harmonic[greater.long()]) / span
    return {"r1": r1, f"r{k}": rk, "rr": rr}


# ---------------------------------------------------------------------------------- result
@dataclass
class RetrievalResult:
    """Held-out retrieval metrics (``None`` for the -sim metrics when no anchor qualified).

    ``per_phoneme`` maps an identity to ``{"r1_diff", "r1_sim", "anchors", "anchors_sim"}``:
    its anchors' mean R@1 in each task and how many anchors each task had.
    """

    r1_diff: float
    r1_sim: float | None
    r5_diff: float
    r5_sim: float | None
    mrr_diff: float
    mrr_sim: float | None
    chance_r1: float
    chance_r5: float
    chance_mrr: float
    num_candidates: int
    num_anchors_diff: int
    num_anchors_sim: int
    skipped_sim: int
    seed: int
    per_phoneme: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict."""
        return asdict(self)

    def to_markdown(self) -> str:
        """Summary table: each metric for both tasks next to its chance level, N stated."""

        def cell(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        n = self.num_candidates
        lines = [
            f"Retrieval among N = {n} candidates (1 true segment + {n - 1} distractors), seed {self.seed}: "
            f"{self.num_anchors_diff} anchors in R@k-diff, {self.num_anchors_sim} in R@k-sim "
            f"({self.skipped_sim} skipped: fewer than {n - 1} same-identity segments in other utterances).",
            "",
            "| metric | diff | sim | chance |",
            "|---|---|---|---|",
            f"| R@1 | {cell(self.r1_diff)} | {cell(self.r1_sim)} | {cell(self.chance_r1)} |",
            f"| R@{TOP_K} | {cell(self.r5_diff)} | {cell(self.r5_sim)} | {cell(self.chance_r5)} |",
            f"| MRR | {cell(self.mrr_diff)} | {cell(self.mrr_sim)} | {cell(self.chance_mrr)} |",
        ]
        return "\n".join(lines)

    def per_phoneme_markdown(self) -> str:
        """Per-identity R@1 table (identities sorted)."""
        lines = ["| phoneme | anchors | R@1-diff | anchors (sim) | R@1-sim |", "|---|---|---|---|---|"]
        for name, row in self.per_phoneme.items():
            sim = "n/a" if row["r1_sim"] is None else f"{row['r1_sim']:.3f}"
            lines.append(f"| {name} | {row['anchors']} | {row['r1_diff']:.3f} | {row['anchors_sim']} | {sim} |")
        return "\n".join(lines)


def _mean(values: torch.Tensor) -> float | None:
    return float(values.mean()) if values.numel() else None


def _per_phoneme(
    identities: list[str], candidates: Any, diff: dict[str, torch.Tensor], sim: dict[str, torch.Tensor]
) -> dict[str, dict[str, Any]]:
    """R@1-diff / R@1-sim and anchor counts of each phoneme identity."""
    identities = np.asarray(identities, dtype=object)
    diff_names, sim_names = identities[candidates.anchors], identities[candidates.sim_anchors]
    per_phoneme: dict[str, dict[str, Any]] = {}
    for name in sorted(set(diff_names)):
        in_diff = torch.from_numpy(diff_names == name)
        in_sim = torch.from_numpy(sim_names == name) if sim_names.size else torch.zeros(0, dtype=torch.bool)
        per_phoneme[str(name)] = {
            "r1_diff": float(diff["r1"][in_diff].mean()),
            "r1_sim": _mean(sim["r1"][in_sim]),
            "anchors": int(in_diff.sum()),
            "anchors_sim": int(in_sim.sum()),
        }
    return per_phoneme


def evaluate_retrieval(
    model: Any,
    corpus: Any,
    *,
    num_candidates: int = 32,
    seed: int = 0,
    max_anchors: int | None = None,
    keep_stress: bool = True,
    batch_size: int = 16,
    device: str | torch.device | None = None,
    show_progress: bool = True,
    speaker_to_id: Mapping[str, int] | None = None,
    embeddings: OccurrenceEmbeddings | None = None,
    processor: Any = None,
) -> RetrievalResult:
    """R@1/R@5/MRR of text anchors against N audio candidates, -diff and -sim (see the module doc).

    Args:
        model: a ``ProsodyContrastiveModel`` or its directory (unused when ``embeddings`` is given).
        corpus: the prepared split to evaluate (unused when ``embeddings`` is given).
        num_candidates: N, the true segment plus ``N - 1`` distractors.
        seed: seeds the anchor subset and both candidate draws.
        max_anchors: evaluate a seeded random subset of this many anchors (default: all).
        keep_stress: identities distinguish stressed vowels (``ˈa`` ≠ ``a``).
        batch_size / device / show_progress / speaker_to_id / processor: as in
            :func:`compute_occurrence_embeddings`.
        embeddings: precomputed :func:`compute_occurrence_embeddings` output (skips the model).
    """
    if embeddings is None:
        if model is None or corpus is None:
            raise ValueError("evaluate_retrieval needs a model and a corpus, or precomputed embeddings")
        from ..data.occurrences import occurrence_index
        from ..modeling.contrastive import ProsodyContrastiveModel
        from ..modeling.loading import load_model

        model = load_model(model, ProsodyContrastiveModel)
        _check_corpus(corpus)
        embeddings = compute_occurrence_embeddings(
            model,
            corpus,
            occurrence_index(corpus, keep_stress=keep_stress),
            batch_size=batch_size,
            device=device,
            show_progress=show_progress,
            speaker_to_id=speaker_to_id,
            processor=processor,
        )
    embeddings = embeddings.regroup(keep_stress)
    candidates = sample_candidates(
        embeddings.identities,
        embeddings.utterance_ids,
        num_candidates=num_candidates,
        seed=seed,
        max_anchors=max_anchors,
    )
    text, audio = embeddings.text.float(), embeddings.audio.float()
    if not (bool(torch.isfinite(text).all()) and bool(torch.isfinite(audio).all())):
        raise FloatingPointError("the occurrence embeddings hold NaN/inf; retrieval cannot rank them")
    diff = score_candidates(text, audio, candidates.anchors, candidates.diff)
    sim = score_candidates(text, audio, candidates.sim_anchors, candidates.sim)
    chance = chance_levels(num_candidates)

    per_phoneme = _per_phoneme(embeddings.identities, candidates, diff, sim)
    return RetrievalResult(
        r1_diff=float(diff["r1"].mean()),
        r1_sim=_mean(sim["r1"]),
        r5_diff=float(diff[f"r{TOP_K}"].mean()),
        r5_sim=_mean(sim[f"r{TOP_K}"]),
        mrr_diff=float(diff["rr"].mean()),
        mrr_sim=_mean(sim["rr"]),
        chance_r1=chance["r1"],
        chance_r5=chance[f"r{TOP_K}"],
        chance_mrr=chance["mrr"],
        num_candidates=num_candidates,
        num_anchors_diff=int(candidates.anchors.size),
        num_anchors_sim=int(candidates.sim_anchors.size),
        skipped_sim=candidates.skipped_sim,
        seed=seed,
        per_phoneme=per_phoneme,
    )
