"""DualStreamCollator: padding values, masks, shapes, dtypes, unpadded rows, speakers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from prosody_tts.data.collators import DualStreamCollator, TextToSpeechCollator

PAD_FEATURE = math.log(1e-5)


def example(i: int, n_ph: int, n_bpe: int, frames: int, speaker: str) -> dict:
    rng = np.random.default_rng(i)
    durations = [0] + [frames // (n_ph - 2)] * (n_ph - 2) + [0]
    durations[1] += frames - sum(durations)
    return {
        "id": f"u{i}",
        "speaker": speaker,
        "phoneme_input_ids": list(rng.integers(5, 90, n_ph)),
        "phoneme_word_ids": [-1] + [k // 3 for k in range(n_ph - 2)] + [-1],
        "bpe_input_ids": list(rng.integers(5, 900, n_bpe)),
        "bpe_word_ids": [-1] + list(range(n_bpe - 2)) + [-1],
        "input_features": rng.standard_normal((frames, 80)).astype(np.float32),
        "phoneme_durations": durations,
        "num_frames": frames,
    }


@pytest.fixture
def examples() -> list[dict]:
    return [example(0, 7, 4, 30, "anna"), example(1, 12, 6, 51, "boris"), example(2, 5, 3, 12, "anna")]


def test_shapes_dtypes_padding_and_masks(examples):
    batch = DualStreamCollator(phoneme_pad_id=0, bpe_pad_id=1, feature_padding_value=PAD_FEATURE)(examples)
    assert batch["phoneme_input_ids"].shape == (3, 12) and batch["bpe_input_ids"].shape == (3, 6)
    assert batch["input_features"].shape == (3, 51, 80) and batch["feature_attention_mask"].shape == (3, 51)
    assert batch["phoneme_durations"].shape == (3, 12) and batch["speaker_ids"].shape == (3,)
    for key, value in batch.items():
        assert value.dtype == (torch.float32 if key == "input_features" else torch.long), key
    for row, ex in enumerate(examples):
        n_ph, n_bpe, frames = len(ex["phoneme_input_ids"]), len(ex["bpe_input_ids"]), ex["num_frames"]
        # unpadded parts equal the originals
        assert batch["phoneme_input_ids"][row, :n_ph].tolist() == [int(x) for x in ex["phoneme_input_ids"]]
        assert batch["phoneme_word_ids"][row, :n_ph].tolist() == ex["phoneme_word_ids"]
        assert batch["bpe_input_ids"][row, :n_bpe].tolist() == [int(x) for x in ex["bpe_input_ids"]]
        assert batch["bpe_word_ids"][row, :n_bpe].tolist() == ex["bpe_word_ids"]
        assert torch.equal(batch["input_features"][row, :frames], torch.from_numpy(ex["input_features"]))
        assert batch["phoneme_durations"][row, :n_ph].tolist() == ex["phoneme_durations"]
        # padding values
        assert (batch["phoneme_input_ids"][row, n_ph:] == 0).all()
        assert (batch["bpe_input_ids"][row, n_bpe:] == 1).all()
        assert (batch["phoneme_word_ids"][row, n_ph:] == -1).all() and (
            batch["bpe_word_ids"][row, n_bpe:] == -1
        ).all()
        assert (batch["input_features"][row, frames:] == PAD_FEATURE).all()
        assert (batch["phoneme_durations"][row, n_ph:] == 0).all()
        # masks
        assert batch["phoneme_attention_mask"][row].tolist() == [1] * n_ph + [0] * (12 - n_ph)
        assert batch["bpe_attention_mask"][row].tolist() == [1] * n_bpe + [0] * (6 - n_bpe)
        assert batch["feature_attention_mask"][row].tolist() == [1] * frames + [0] * (51 - frames)
    assert batch["phoneme_durations"].sum(1).tolist() == [30, 51, 12]
    assert batch["speaker_ids"].tolist() == [0, 1, 0]
    assert "ids" not in batch


def test_speaker_mapping_fixed_or_built(examples):
    fixed = DualStreamCollator(speaker_to_id={"boris": 7, "anna": 3}, return_ids=True)
    batch = fixed(examples)
    assert batch["speaker_ids"].tolist() == [3, 7, 3] and batch["ids"] == ["u0", "u1", "u2"]
    with pytest.raises(KeyError):
        fixed([example(3, 5, 3, 10, "vera")])
    assert DualStreamCollator(speaker_to_id={}, unknown_speaker_id=-1)([example(3, 5, 3, 10, "vera")])[
        "speaker_ids"
    ].tolist() == [-1]
    growing = DualStreamCollator()
    growing(examples)
    assert growing([example(3, 5, 3, 10, "vera"), examples[1]])["speaker_ids"].tolist() == [2, 1]


def test_pad_to_multiple_mel_only_and_errors(examples):
    batch = DualStreamCollator(pad_to_multiple_of=8)(examples)
    assert batch["phoneme_input_ids"].shape[1] == 16 and batch["input_features"].shape[1] == 56
    mel_only = [{k: ex[k] for k in ("id", "speaker", "input_features")} for ex in examples]
    batch = DualStreamCollator()(mel_only)
    assert set(batch) == {"input_features", "feature_attention_mask", "speaker_ids"}
    bad = dict(examples[0], phoneme_durations=[1, 2])
    with pytest.raises(ValueError, match="durations"):
        DualStreamCollator()([bad])
    with pytest.raises(ValueError, match="empty"):
        DualStreamCollator()([])


def test_from_processor_uses_pad_ids_and_padding_value():
    from types import SimpleNamespace

    processor = SimpleNamespace(
        tokenizer=SimpleNamespace(pad_token_id=4),
        bpe_tokenizer=SimpleNamespace(pad_token_id=9),
        feature_extractor=SimpleNamespace(padding_value=-3.0),
    )
    collator = DualStreamCollator.from_processor(processor)
    assert (collator.phoneme_pad_id, collator.bpe_pad_id, collator.feature_padding_value) == (4, 9, -3.0)


def test_text_to_speech_batches_carry_the_target_mels_lengths_and_speakers(examples):
    base = DualStreamCollator(speaker_to_id={ex["speaker"]: i for i, ex in enumerate(examples)})
    batch = TextToSpeechCollator(base, with_speaker_ids=True)(examples)
    frames = [len(ex["input_features"]) for ex in examples]
    assert batch["spectrogram"].shape[:2] == (len(examples), max(frames))
    assert batch["spectrogram_lengths"].tolist() == frames
    assert "input_features" not in batch and "feature_attention_mask" not in batch and "phoneme_durations" not in batch
    assert batch["speaker_ids"].shape == (len(examples),)
    single = TextToSpeechCollator(base)(examples)
    assert "speaker_ids" not in single
    with pytest.raises(ValueError, match="fixed speaker_to_id"):
        TextToSpeechCollator(DualStreamCollator(), with_speaker_ids=True)
    with pytest.raises(ValueError, match="lack input_features"):
        TextToSpeechCollator(base)([{k: v for k, v in examples[0].items() if k != "input_features"}])
