"""Masked-language-model collator for stage 1: each stream masked on its own.

For each stream (phonemes, BPE) independently, ``mlm_probability`` of the maskable tokens are
selected (15 % by default); a selected token becomes the mask token with probability
``mask_replace_prob`` (80 %), a random ordinary token with ``random_replace_prob`` (10 %), and
stays itself otherwise (10 %). Labels hold the original id at selected positions and ``-100``
elsewhere. Special tokens (``<s>``, ``</s>``, ``<pad>``, ``<unk>``, ``<mask>``) are never selected
and never drawn as random replacements.

With ``whole_word=True`` the unit of selection is the word (word ids from the processor): a
selected word has all its tokens in that stream selected; tokens outside words (``#``,
punctuation: word id ``-1``) are selected one by one with the same probability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..constants import IGNORE_INDEX, NO_WORD
from ..processing.padding import pad_rows_tensor

STREAMS = ("phoneme", "bpe")


@dataclass
class DualStreamMLMCollator:
    """Pad processor outputs and mask both streams independently.

    Args:
        phoneme_special_ids / bpe_special_ids: ids that are never masked nor drawn (specials).
        phoneme_vocab_size / bpe_vocab_size: random replacements are drawn below these.
        phoneme_mask_id / bpe_mask_id, phoneme_pad_id / bpe_pad_id: the tokenizers' ids.
        mlm_probability, mask_replace_prob, random_replace_prob: the 15 / 80 / 10 scheme.
        whole_word: select whole words (by word id) instead of single tokens.
        generator: a seeded ``torch.Generator`` for reproducible masks.

    Use :meth:`from_processor` to fill the ids from a ``DualStreamProcessor``.
    """

    phoneme_special_ids: Sequence[int]
    bpe_special_ids: Sequence[int]
    phoneme_vocab_size: int
    bpe_vocab_size: int
    phoneme_mask_id: int
    bpe_mask_id: int
    phoneme_pad_id: int = 0
    bpe_pad_id: int = 0
    mlm_probability: float = 0.15
    mask_replace_prob: float = 0.8
    random_replace_prob: float = 0.1
    whole_word: bool = False
    generator: torch.Generator | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.mlm_probability < 1.0:
            raise ValueError(f"mlm_probability must be in (0, 1), got {self.mlm_probability}")
        if self.mask_replace_prob < 0 or self.random_replace_prob < 0:
            raise ValueError("mask_replace_prob and random_replace_prob must be non-negative")
        if self.mask_replace_prob + self.random_replace_prob > 1.0:
            raise ValueError("mask_replace_prob + random_replace_prob must not exceed 1")
        # per stream, computed once: the special ids (never masked) and the ordinary ids (drawn)
        self._special_ids: dict[str, torch.Tensor] = {}
        self._ordinary_ids: dict[str, torch.Tensor] = {}
        for stream in STREAMS:
            specials = torch.tensor(sorted(set(getattr(self, f"{stream}_special_ids"))), dtype=torch.long)
            vocab = torch.arange(getattr(self, f"{stream}_vocab_size"))
            ordinary = vocab[~torch.isin(vocab, specials)]
            if ordinary.numel() == 0:
                raise ValueError(f"the {stream} vocabulary has no ordinary token to draw")
            self._special_ids[stream] = specials
            self._ordinary_ids[stream] = ordinary

    @classmethod
    def from_processor(cls, processor: Any, **kwargs: Any) -> DualStreamMLMCollator:
        """Take the special ids, vocabulary sizes, mask and pad ids from a ``DualStreamProcessor``."""
        phoneme, bpe = processor.tokenizer, processor.bpe_tokenizer
        return cls(
            phoneme_special_ids=sorted(set(phoneme.all_special_ids)),
            bpe_special_ids=sorted(set(bpe.all_special_ids)),
            phoneme_vocab_size=len(phoneme),
            bpe_vocab_size=len(bpe),
            phoneme_mask_id=phoneme.mask_token_id,
            bpe_mask_id=bpe.mask_token_id,
            phoneme_pad_id=phoneme.pad_token_id,
            bpe_pad_id=bpe.pad_token_id,
            **kwargs,
        )

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        if not examples:
            raise ValueError("DualStreamMLMCollator got an empty batch")
        batch: dict[str, torch.Tensor] = {}
        for stream in STREAMS:
            key = f"{stream}_input_ids"
            if any(key not in example for example in examples):
                continue
            pad_id = getattr(self, f"{stream}_pad_id")
            ids = pad_rows_tensor([example[key] for example in examples], pad_id)
            mask = pad_rows_tensor([example.get(f"{stream}_attention_mask", [1] * len(example[key])) for example in examples], 0)
            words = pad_rows_tensor(
                [example.get(f"{stream}_word_ids", [NO_WORD] * len(example[key])) for example in examples], NO_WORD
            )
            masked, labels = self.mask_stream(stream, ids, mask, words)
            batch[key] = masked
            batch[f"{stream}_attention_mask"] = mask
            batch[f"{stream}_word_ids"] = words
            batch[f"{stream}_labels"] = labels
        if not batch:
            raise ValueError("examples hold neither phoneme_input_ids nor bpe_input_ids")
        return batch

    def mask_stream(
        self, stream: str, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked ids and labels (-100 where not selected) for one stream; inputs (B, T)."""
        maskable = attention_mask.bool() & ~torch.isin(input_ids, self._special_ids[stream])  # (B, T)
        if self.whole_word:
            selected = self._select_words(word_ids, maskable)
        else:
            selected = self._bernoulli(input_ids.shape, self.mlm_probability) & maskable
        labels = input_ids.masked_fill(~selected, IGNORE_INDEX)
        draw = torch.rand(input_ids.shape, generator=self.generator)  # one draw decides the action
        to_mask = selected & (draw < self.mask_replace_prob)
        to_random = selected & (draw >= self.mask_replace_prob) & (draw < self.mask_replace_prob + self.random_replace_prob)
        masked = input_ids.clone()
        masked[to_mask] = getattr(self, f"{stream}_mask_id")
        if to_random.any():
            masked[to_random] = self._random_ordinary(stream, int(to_random.sum()), input_ids.dtype)
        return masked, labels

    # ------------------------------------------------------------------ internals
    def _bernoulli(self, shape: torch.Size, probability: float) -> torch.Tensor:
        return torch.rand(shape, generator=self.generator) < probability

    def _select_words(self, word_ids: torch.Tensor, maskable: torch.Tensor) -> torch.Tensor:
        """Select whole words (all tokens of a chosen word id) plus single non-word tokens."""
        num_words = int(word_ids.max().item()) + 1 if word_ids.numel() else 0
        chosen_words = self._bernoulli((word_ids.shape[0], max(num_words, 1)), self.mlm_probability)  # (B, W)
        in_word = word_ids != NO_WORD
        word_selected = torch.gather(chosen_words, 1, word_ids.clamp_min(0)) & in_word  # (B, T)
        single = self._bernoulli(word_ids.shape, self.mlm_probability) & ~in_word
        return (word_selected | single) & maskable

    def _random_ordinary(self, stream: str, count: int, dtype: torch.dtype) -> torch.Tensor:
        ordinary = self._ordinary_ids[stream]
        picks = torch.randint(len(ordinary), (count,), generator=self.generator)
        return ordinary[picks].to(dtype)
