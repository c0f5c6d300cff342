"""``DualStreamProcessor``: Russian text → both encoder streams (aligned by word), audio → log-mel.

Output keys (``return_tensors="pt"`` gives tensors, batch-padded):

=========================  =====================================================================
``phoneme_input_ids``      ``<s>`` phonemes ``</s>``; ``#`` between words, punctuation tokens kept
``phoneme_attention_mask`` 1 for real tokens, 0 for padding
``phoneme_word_ids``       index of the word each phoneme belongs to; ``-1`` for ``<s>``, ``</s>``,
                           ``#``, punctuation and padding
``bpe_input_ids``          ``<s>`` BPE tokens ``</s>`` of the same normalised text
``bpe_attention_mask``     1 for real tokens, 0 for padding
``bpe_word_ids``           index of the word each BPE token belongs to (the same word indices as
                           ``phoneme_word_ids``); ``-1`` for special tokens, punctuation, padding
``input_features``         (batch, frames, mel bins) log-mel, when ``audio`` is given
``feature_attention_mask`` (batch, frames) 1 for real frames
=========================  =====================================================================

Nothing is truncated: a long text gives a long sequence.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from transformers import BatchFeature, ProcessorMixin

from ..constants import NO_WORD
from ..text.frontend import PhonemizedText, RussianFrontend
from .padding import pad_rows


class DualStreamProcessor(ProcessorMixin):
    """Combine the front-end, the phoneme tokenizer, the BPE tokenizer and the mel extractor.

    Args:
        feature_extractor: a :class:`MelFeatureExtractor`.
        tokenizer: the :class:`PhonemeTokenizer` (the primary tokenizer, saved at the root).
        bpe_tokenizer: the BPE ``PreTrainedTokenizerFast`` (saved in ``bpe_tokenizer/``).
        g2p_backend: ``"rules"`` or ``"espeak"``; which G2P the front-end uses.

    Example:
        >>> processor = DualStreamProcessor.from_defaults()
        >>> batch = processor(text=["Привет, мир!"], return_tensors="pt")  # doctest: +SKIP
        >>> batch["phoneme_word_ids"]  # doctest: +SKIP
        tensor([[-1,  0,  0,  0,  0,  0,  0, -1, -1,  1,  1,  1, -1, -1]])
    """

    def __init__(self, feature_extractor, tokenizer, bpe_tokenizer, g2p_backend: str = "rules"):
        self.g2p_backend = g2p_backend
        self._frontend: RussianFrontend | None = None
        super().__init__(feature_extractor, tokenizer, bpe_tokenizer)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_defaults(cls, g2p_backend: str = "rules", **feature_kwargs) -> DualStreamProcessor:
        """The packaged default: inventory phoneme tokenizer, bundled BPE, 22.05 kHz 80-bin mels."""
        from .feature_extraction import MelFeatureExtractor
        from .tokenization_bpe import load_default_bpe_tokenizer
        from .tokenization_phoneme import PhonemeTokenizer

        return cls(
            MelFeatureExtractor(**feature_kwargs),
            PhonemeTokenizer(),
            load_default_bpe_tokenizer(),
            g2p_backend=g2p_backend,
        )

    @property
    def frontend(self) -> RussianFrontend:
        if self._frontend is None:
            self._frontend = RussianFrontend(g2p=self.g2p_backend)
        return self._frontend

    @frontend.setter
    def frontend(self, frontend: RussianFrontend) -> None:
        self._frontend = frontend

    def to_dict(self) -> dict:
        # the front-end holds a loaded stress model; it is rebuilt on demand, never serialised
        frontend = self.__dict__.pop("_frontend", None)
        try:
            return super().to_dict()
        finally:
            self.__dict__["_frontend"] = frontend

    # ------------------------------------------------------------------ main entry
    def __call__(
        self,
        text: str | Sequence[str] | None = None,
        audio=None,
        sampling_rate: int | None = None,
        return_tensors: str | None = None,
        padding: bool = True,
        **kwargs,
    ) -> BatchFeature:
        if text is None and audio is None:
            raise ValueError("DualStreamProcessor needs `text`, `audio`, or both")
        if kwargs:
            raise TypeError(f"DualStreamProcessor got unexpected arguments: {sorted(kwargs)}")
        data: dict = {}
        batch_size = None
        if text is not None:
            texts = [text] if isinstance(text, str) else text
            if not isinstance(texts, Sequence) or isinstance(texts, bytes):
                raise TypeError(f"`text` must be a str or a list of str, got {type(text).__name__}")
            if len(texts) == 0:
                raise ValueError("`text` is an empty list")
            phonemized = self.frontend.batch(texts) if len(texts) > 1 else [self.frontend(texts[0])]
            data.update(self.encode_phonemized(phonemized, padding=padding))
            batch_size = len(texts)
        if audio is not None:
            features = self.feature_extractor(
                audio, sampling_rate=sampling_rate, return_tensors=None, padding=True, return_attention_mask=True
            )
            data["input_features"] = features["input_features"]
            data["feature_attention_mask"] = features["attention_mask"]
            audio_batch = len(features["input_features"])
            if batch_size is not None and audio_batch != batch_size:
                raise ValueError(f"got {batch_size} texts but {audio_batch} audio items; they must pair one to one")
        return BatchFeature(data=data, tensor_type=return_tensors)

    def phonemize(self, text: str) -> PhonemizedText:
        """Run only the front-end (normalise → stress → G2P) and return every stage."""
        return self.frontend(text)

    def encode_phonemized(self, phonemized: Sequence[PhonemizedText], padding: bool = True) -> dict[str, list]:
        """Token ids and word ids of both streams for already phonemised texts (batch-padded lists)."""
        phoneme_ids, phoneme_word_ids = [], []
        for item in phonemized:
            unknown = self.tokenizer.unknown_symbols(item.phonemes)
            if unknown:
                raise ValueError(f"phoneme tokenizer vocabulary lacks {sorted(set(unknown))} (text {item.text!r})")
            ids = self.tokenizer.convert_tokens_to_ids(item.phonemes)
            phoneme_ids.append([self.tokenizer.bos_token_id, *ids, self.tokenizer.eos_token_id])
            phoneme_word_ids.append([NO_WORD, *item.phoneme_word_ids, NO_WORD])

        encoded = self.bpe_tokenizer(
            [item.plain_text for item in phonemized], return_offsets_mapping=True, add_special_tokens=True
        )
        bpe_ids, bpe_word_ids = [], []
        for index, item in enumerate(phonemized):
            offsets = encoded["offset_mapping"][index]
            bpe_ids.append(list(encoded["input_ids"][index]))
            bpe_word_ids.append(_word_ids_from_offsets(offsets, item.word_char_spans))

        out = {
            "phoneme_input_ids": phoneme_ids,
            "phoneme_attention_mask": [[1] * len(ids) for ids in phoneme_ids],
            "phoneme_word_ids": phoneme_word_ids,
            "bpe_input_ids": bpe_ids,
            "bpe_attention_mask": [[1] * len(ids) for ids in bpe_ids],
            "bpe_word_ids": bpe_word_ids,
        }
        if padding:
            for prefix, pad_id in (("phoneme", self.tokenizer.pad_token_id), ("bpe", self.bpe_tokenizer.pad_token_id)):
                length = max(len(ids) for ids in out[f"{prefix}_input_ids"])
                out[f"{prefix}_input_ids"] = pad_rows(out[f"{prefix}_input_ids"], pad_id, length)
                out[f"{prefix}_attention_mask"] = pad_rows(out[f"{prefix}_attention_mask"], 0, length)
                out[f"{prefix}_word_ids"] = pad_rows(out[f"{prefix}_word_ids"], NO_WORD, length)
        return out

    @property
    def model_input_names(self) -> list[str]:
        return [
            "phoneme_input_ids",
            "phoneme_attention_mask",
            "phoneme_word_ids",
            "bpe_input_ids",
            "bpe_attention_mask",
            "bpe_word_ids",
            "input_features",
            "feature_attention_mask",
        ]


def _word_ids_from_offsets(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[int]:
    """Assign each BPE token to the word whose character span holds the token's last character."""
    starts = [start for start, _ in spans]
    word_ids = []
    for start, end in offsets:
        if end <= start:  # special token
            word_ids.append(NO_WORD)
            continue
        last_char = end - 1
        index = bisect.bisect_right(starts, last_char) - 1
        if index >= 0 and spans[index][0] <= last_char < spans[index][1]:
            word_ids.append(index)
        else:  # punctuation or space
            word_ids.append(NO_WORD)
    return word_ids
