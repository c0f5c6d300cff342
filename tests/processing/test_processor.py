"""DualStreamProcessor: aligned word ids in both streams, audio, padding, save/load, AutoProcessor."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import AutoProcessor

import prosody_tts  # noqa: F401  (registers the Auto classes)
from prosody_tts.processing.processing_dual_stream import DualStreamProcessor
from prosody_tts.text.errors import AudioError, FrontendError

KEYS = [
    "phoneme_input_ids",
    "phoneme_attention_mask",
    "phoneme_word_ids",
    "bpe_input_ids",
    "bpe_attention_mask",
    "bpe_word_ids",
]


def test_text_batch_keys_shapes_and_padding(processor):
    batch = processor(text=["Привет, мир!", "Старинный замок стоял на холме."], return_tensors="pt")
    assert set(KEYS) <= set(batch.keys())
    for prefix in ("phoneme", "bpe"):
        ids, mask, words = (batch[f"{prefix}_{k}"] for k in ("input_ids", "attention_mask", "word_ids"))
        assert ids.shape == mask.shape == words.shape and ids.dtype == torch.long
        assert (words[mask == 0] == -1).all()
    short = batch["phoneme_attention_mask"][0]
    assert short.sum() < short.numel()  # the shorter text is padded
    assert batch["phoneme_input_ids"][0][short == 0].eq(processor.tokenizer.pad_token_id).all()


def test_word_ids_index_the_same_words_in_both_streams(processor):
    text = "Кто-нибудь пришёл, а мы купили хлеб и 3 книги."
    batch = processor(text=text)
    result = processor.phonemize(text)
    phoneme_words = sorted(set(batch["phoneme_word_ids"][0]) - {-1})
    bpe_words = sorted(set(batch["bpe_word_ids"][0]) - {-1})
    assert phoneme_words == bpe_words == list(range(len(result.words)))
    # the BPE tokens of word k spell word k
    tokens = processor.bpe_tokenizer.convert_ids_to_tokens(batch["bpe_input_ids"][0])
    for index, word in enumerate(result.words):
        pieces = [t for t, w in zip(tokens, batch["bpe_word_ids"][0], strict=True) if w == index]
        assert "".join(pieces).replace("▁", "") == word.lower()


def test_special_tokens_and_punctuation_get_minus_one(processor):
    batch = processor(text="Привет, мир!")
    phoneme_tokens = processor.tokenizer.convert_ids_to_tokens(batch["phoneme_input_ids"][0])
    for token, word_id in zip(phoneme_tokens, batch["phoneme_word_ids"][0], strict=True):
        if token in ("<s>", "</s>", "#", ",", "!"):
            assert word_id == -1
    bpe_tokens = processor.bpe_tokenizer.convert_ids_to_tokens(batch["bpe_input_ids"][0])
    assert dict(zip(bpe_tokens, batch["bpe_word_ids"][0], strict=True))[","] == -1


def test_audio_and_text_together(processor):
    rng = np.random.default_rng(0)
    audio = [rng.standard_normal(48_000).astype(np.float32) * 0.1, rng.standard_normal(24_000).astype(np.float32) * 0.1]
    batch = processor(text=["Да.", "Нет."], audio=audio, sampling_rate=48_000, return_tensors="pt")
    features, mask = batch["input_features"], batch["feature_attention_mask"]
    assert features.shape[0] == 2 and features.shape[2] == 80
    expected = [round(48_000 * 22_050 / 48_000) // 256, round(24_000 * 22_050 / 48_000) // 256]
    assert [int(m.sum()) for m in mask] == pytest.approx(expected, abs=1)


def test_text_audio_count_mismatch(processor):
    with pytest.raises(ValueError, match="pair one to one"):
        processor(text=["Да.", "Нет."], audio=[np.zeros(22_050, dtype=np.float32)], sampling_rate=22_050)


def test_bad_audio_is_named(processor):
    with pytest.raises(AudioError):
        processor(audio=np.array([], dtype=np.float32), sampling_rate=22_050)
    with pytest.raises(AudioError):
        processor(audio=np.full(1000, np.nan, dtype=np.float32), sampling_rate=22_050)


def test_requires_input_and_rejects_unknown_arguments(processor):
    with pytest.raises(ValueError, match="needs"):
        processor()
    with pytest.raises(TypeError, match="unexpected"):
        processor(text="Да", truncation=True)
    with pytest.raises(ValueError, match="empty list"):
        processor(text=[])


def test_save_load_and_auto_processor_round_trip(processor, tmp_path):
    processor.save_pretrained(tmp_path)
    for loaded in (DualStreamProcessor.from_pretrained(tmp_path), AutoProcessor.from_pretrained(tmp_path)):
        assert isinstance(loaded, DualStreamProcessor)
        loaded.frontend = processor.frontend  # reuse the loaded stress model
        text = ["Сколько стоит билет?", "Всё хорошо."]
        expected, actual = processor(text=text), loaded(text=text)
        for key in KEYS:
            assert actual[key] == expected[key], key
        assert loaded.feature_extractor.to_dict() == processor.feature_extractor.to_dict()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30))
def test_random_text_aligned_or_documented_error(processor, text):
    try:
        batch = processor(text=text)
    except FrontendError:
        return
    phoneme_words = set(batch["phoneme_word_ids"][0]) - {-1}
    bpe_words = set(batch["bpe_word_ids"][0]) - {-1}
    assert phoneme_words == bpe_words
    assert phoneme_words == set(range(len(phoneme_words)))
