"""Russian BPE tokenizer: trained with 🤗 tokenizers, used as a ``PreTrainedTokenizerFast``.

Design (what the dual-stream alignment relies on):

* normaliser: NFC + lowercase (case carries little prosody and doubles the vocabulary);
* pre-tokeniser: spaces become ``▁`` word starts (Metaspace), punctuation is isolated, so **no BPE
  token crosses a word boundary** and a token's character offsets tell which word it belongs to;
* special tokens ``<pad> <unk> <s> </s> <mask>``, with ``<s> … </s>`` around every sequence.

A default tokenizer trained on the project's built-in sentences ships with the package
(:func:`load_default_bpe_tokenizer`); train a real one on a large corpus with
:func:`train_bpe_tokenizer` or ``prosody-tts train-bpe``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ["<pad>", "<unk>", "<s>", "</s>", "<mask>"]
#: Always in the vocabulary, seen in training or not, so normalised Russian never maps to <unk>.
INITIAL_ALPHABET = list("абвгдеёжзийклмнопрстуфхцчшщъыьэюя") + ["▁", ",", ".", "?", "!", "…", "—", ":", ";", "-"]
DEFAULT_TOKENIZER_PACKAGE = "prosody_tts.processing.resources"
DEFAULT_TOKENIZER_FILE = "bpe_tokenizer.json"


def build_bpe_backend() -> Tokenizer:
    """An untrained BPE ``tokenizers.Tokenizer`` with the project's normaliser and pre-tokeniser."""
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
            pre_tokenizers.Punctuation(behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    return tokenizer


def _add_post_processor(tokenizer: Tokenizer) -> None:
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )


def wrap_bpe_tokenizer(tokenizer: Tokenizer) -> PreTrainedTokenizerFast:
    """Wrap a trained ``tokenizers.Tokenizer`` as a transformers fast tokenizer."""
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        mask_token="<mask>",
    )


def train_bpe_tokenizer(
    texts: Iterable[str],
    vocab_size: int = 8000,
    min_frequency: int = 2,
    show_progress: bool = True,
    length: int | None = None,
) -> PreTrainedTokenizerFast:
    """Train a Russian BPE on any iterable of texts (a list, a file's lines, a streamed dataset).

    Args:
        texts: raw or normalised Russian texts; ``+`` stress marks are removed before training.
        vocab_size: target vocabulary size, special tokens included.
        min_frequency: merges seen fewer times are not learned.
        length: number of texts, if known (for the progress bar).
    """
    minimum = len(SPECIAL_TOKENS) + len(INITIAL_ALPHABET)
    if vocab_size < minimum:
        raise ValueError(f"vocab_size must be at least {minimum} (special tokens + alphabet), got {vocab_size}")
    backend = build_bpe_backend()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=INITIAL_ALPHABET,
        show_progress=show_progress,
    )
    counted = _CountingIterator(texts)
    backend.train_from_iterator(counted, trainer=trainer, length=length)
    if counted.count == 0:
        raise ValueError("train_bpe_tokenizer got no text to train on")
    _add_post_processor(backend)
    return wrap_bpe_tokenizer(backend)


class _CountingIterator:
    def __init__(self, texts: Iterable[str]):
        self._texts = texts
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for text in self._texts:
            if not isinstance(text, str):
                raise TypeError(f"train_bpe_tokenizer expects strings, got {type(text).__name__}")
            self.count += 1
            yield text.replace("+", "")


def default_bpe_tokenizer_path() -> Path:
    return Path(str(resources.files(DEFAULT_TOKENIZER_PACKAGE).joinpath(DEFAULT_TOKENIZER_FILE)))


def load_default_bpe_tokenizer() -> PreTrainedTokenizerFast:
    """The BPE tokenizer shipped with the package (trained on the built-in sentences)."""
    path = default_bpe_tokenizer_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"the packaged BPE tokenizer {path} is missing; rebuild it with `prosody-tts train-bpe --default`"
        )
    return wrap_bpe_tokenizer(Tokenizer.from_file(str(path)))
