"""Phoneme tokenizer and Russian BPE: vocabularies, special tokens, save/load round trips."""

import json

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

import prosody_tts  # noqa: F401  (registers the Auto classes)
from prosody_tts.processing.tokenization_bpe import load_default_bpe_tokenizer, train_bpe_tokenizer
from prosody_tts.processing.tokenization_phoneme import PhonemeTokenizer, default_phoneme_vocab
from prosody_tts.text.inventory import PUNCTUATION, SYMBOLS, WORD_BOUNDARY


def test_phoneme_vocab_covers_inventory_with_pad_zero():
    vocab = default_phoneme_vocab()
    assert vocab["<pad>"] == 0
    assert all(symbol in vocab for symbol in SYMBOLS)
    assert len(set(vocab.values())) == len(vocab) == len(SYMBOLS) + 5


def test_phoneme_encode_decode_round_trip():
    tokenizer = PhonemeTokenizer()
    symbols = "p rʲ ɪ vʲ ˈe t , # k ˈa k # dʲ ɪ l ˈa ?"
    encoded = tokenizer(symbols)
    assert encoded.input_ids[0] == tokenizer.bos_token_id
    assert encoded.input_ids[-1] == tokenizer.eos_token_id
    assert len(encoded.input_ids) == len(symbols.split()) + 2
    assert tokenizer.decode(encoded.input_ids, skip_special_tokens=True) == symbols
    assert WORD_BOUNDARY in tokenizer.convert_ids_to_tokens(encoded.input_ids)


def test_phoneme_unknown_symbol_maps_to_unk_and_is_reported():
    tokenizer = PhonemeTokenizer()
    ids = tokenizer("p zz", add_special_tokens=False).input_ids
    assert ids[1] == tokenizer.unk_token_id
    assert tokenizer.unknown_symbols(["p", "zz"]) == ["zz"]


def test_phoneme_batch_padding():
    tokenizer = PhonemeTokenizer()
    batch = tokenizer(["p", "k ˈa k"], padding=True, return_tensors="pt")
    assert batch.input_ids.shape == (2, 5)
    assert batch.input_ids[0, -1].item() == tokenizer.pad_token_id == 0
    assert batch.attention_mask[0].tolist() == [1, 1, 1, 0, 0]


def test_phoneme_special_tokens_mask_excludes_boundary_and_punctuation():
    tokenizer = PhonemeTokenizer()
    ids = tokenizer("k ˈa k , # d", add_special_tokens=False).input_ids
    mask = tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
    assert mask == [0] * len(ids)  # '#' and punctuation are ordinary symbols (maskable)
    assert all(p in tokenizer.get_vocab() for p in PUNCTUATION)


def test_phoneme_save_load_and_auto_tokenizer(tmp_path):
    tokenizer = PhonemeTokenizer()
    tokenizer.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8")) == default_phoneme_vocab()
    for loaded in (PhonemeTokenizer.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)):
        assert isinstance(loaded, PhonemeTokenizer)
        assert loaded("p ˈa #").input_ids == tokenizer("p ˈa #").input_ids
        assert loaded.mask_token_id == tokenizer.mask_token_id
        assert loaded.word_boundary_id == tokenizer.word_boundary_id


def test_phoneme_vocab_without_specials_is_rejected(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"a": 0}), encoding="utf-8")
    with pytest.raises(ValueError, match="lacks the special tokens"):
        PhonemeTokenizer(vocab_file=str(path))


TEXTS = [
    "Привет, как дела?",
    "Кто-нибудь пришёл домой.",
    "Мы купили хлеб, молоко, сыр и яблоки.",
    "Старинный замок стоял на холме.",
] * 20


def test_train_bpe_and_round_trip(tmp_path):
    tokenizer = train_bpe_tokenizer(TEXTS, vocab_size=120, show_progress=False)
    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    assert tokenizer.vocab_size <= 120
    assert [tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.bos_token_id] == [0, 1, 2]
    encoded = tokenizer("Привет, как дела?")
    assert encoded.input_ids[0] == tokenizer.bos_token_id and encoded.input_ids[-1] == tokenizer.eos_token_id
    # lowercased, punctuation isolated, spaces restored by the decoder
    assert tokenizer.decode(encoded.input_ids, skip_special_tokens=True) == "привет, как дела?"
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert loaded("Старинный замок").input_ids == tokenizer("Старинный замок").input_ids


def test_bpe_tokens_never_cross_word_boundaries():
    tokenizer = train_bpe_tokenizer(TEXTS, vocab_size=300, show_progress=False)
    encoded = tokenizer("привет,как дела", return_offsets_mapping=True, add_special_tokens=False)
    pieces = ["привет,как дела"[s:e] for s, e in encoded.offset_mapping]
    assert "," in pieces
    for piece in pieces:
        assert piece.strip() == piece.strip(" ")
        assert not (" " in piece.strip() or ("," in piece and piece != ","))


def test_bpe_stress_marks_removed_before_training():
    tokenizer = train_bpe_tokenizer(["прив+ет мир"] * 10, vocab_size=80, show_progress=False)
    assert not any("+" in token for token in tokenizer.get_vocab())


def test_bpe_training_errors():
    with pytest.raises(ValueError, match="no text"):
        train_bpe_tokenizer([], vocab_size=100, show_progress=False)
    with pytest.raises(ValueError, match="vocab_size"):
        train_bpe_tokenizer(TEXTS, vocab_size=3, show_progress=False)
    with pytest.raises(TypeError, match="expects strings"):
        train_bpe_tokenizer(["ok", 5], vocab_size=100, show_progress=False)


def test_default_bpe_tokenizer_loads_and_covers_russian():
    tokenizer = load_default_bpe_tokenizer()
    ids = tokenizer("Съешь же ещё этих мягких французских булок, да выпей чаю.", add_special_tokens=False).input_ids
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.vocab_size >= 1000
