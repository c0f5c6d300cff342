"""Phoneme tokenizer: IPA symbols of the project's inventory <-> ids.

The input is a phonemised text: symbols separated by spaces (``"p rʲ ɪ vʲ ˈe t , # k ˈa k"``) or
a list of symbols with ``is_split_into_words=True``. Turning Russian text into symbols is the
front-end's job (:class:`~prosody_tts.text.frontend.RussianFrontend`); the
:class:`~prosody_tts.processing.processing_dual_stream.DualStreamProcessor` runs both.
"""

from __future__ import annotations

import json
import os

from transformers import PreTrainedTokenizer

from ..text.inventory import SYMBOLS, WORD_BOUNDARY

VOCAB_FILES_NAMES = {"vocab_file": "vocab.json"}
SPECIAL_TOKENS = {
    "pad_token": "<pad>",
    "unk_token": "<unk>",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "mask_token": "<mask>",
}


def default_phoneme_vocab() -> dict[str, int]:
    """Special tokens first (pad = 0), then the inventory in its documented order."""
    tokens = [SPECIAL_TOKENS[name] for name in ("pad_token", "unk_token", "bos_token", "eos_token", "mask_token")]
    return {token: index for index, token in enumerate([*tokens, *SYMBOLS])}


class PhonemeTokenizer(PreTrainedTokenizer):
    """Tokenizer over the phoneme inventory (one token per IPA symbol).

    Special tokens: ``<pad>`` (id 0), ``<unk>``, ``<s>``/``</s>`` wrapped around every sequence
    (``add_special_tokens=True``), ``<mask>`` for masked language modelling. The word
    boundary ``#`` is an ordinary vocabulary symbol (``word_boundary_symbol``,
    ``word_boundary_id``), not a special token: decoding keeps it.

    Example:
        >>> tokenizer = PhonemeTokenizer()
        >>> tokenizer("p rʲ ɪ vʲ ˈe t").input_ids
        [2, 48, ..., 3]  # doctest: +SKIP
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | None = None,
        pad_token: str = SPECIAL_TOKENS["pad_token"],
        unk_token: str = SPECIAL_TOKENS["unk_token"],
        bos_token: str = SPECIAL_TOKENS["bos_token"],
        eos_token: str = SPECIAL_TOKENS["eos_token"],
        mask_token: str = SPECIAL_TOKENS["mask_token"],
        word_boundary_symbol: str = WORD_BOUNDARY,
        **kwargs,
    ) -> None:
        if vocab_file is None:
            self.encoder = default_phoneme_vocab()
        else:
            with open(vocab_file, encoding="utf-8") as handle:
                self.encoder = json.load(handle)
        specials = [str(t) for t in (pad_token, unk_token, bos_token, eos_token, mask_token)]
        missing = [t for t in [*specials, word_boundary_symbol] if t not in self.encoder]
        if missing:
            raise ValueError(f"phoneme vocabulary {vocab_file!r} lacks the special tokens {missing}")
        self.decoder = {index: token for token, index in self.encoder.items()}
        self.word_boundary_symbol = word_boundary_symbol
        kwargs.setdefault("special_tokens_pattern", "bos_eos")
        super().__init__(
            pad_token=pad_token,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            mask_token=mask_token,
            word_boundary_symbol=word_boundary_symbol,
            **kwargs,
        )

    @property
    def vocab_size(self) -> int:
        return len(self.encoder)

    @property
    def word_boundary_id(self) -> int:
        return self.encoder[self.word_boundary_symbol]

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self.encoder)
        vocab.update(self.added_tokens_encoder)
        return vocab

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        return text.split()

    def _convert_token_to_id(self, token: str) -> int:
        return self.encoder.get(token, self.encoder[str(self.unk_token)])

    def _convert_id_to_token(self, index: int) -> str:
        return self.decoder.get(index, str(self.unk_token))

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return " ".join(tokens)

    def unknown_symbols(self, symbols: list[str]) -> list[str]:
        """The symbols of ``symbols`` that are not in the vocabulary (they would map to unk)."""
        return [s for s in symbols if s not in self.encoder]

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str]:
        if not os.path.isdir(save_directory):
            raise NotADirectoryError(f"vocabulary path {save_directory!r} is not a directory")
        name = (filename_prefix + "-" if filename_prefix else "") + VOCAB_FILES_NAMES["vocab_file"]
        path = os.path.join(save_directory, name)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.encoder, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        return (path,)
