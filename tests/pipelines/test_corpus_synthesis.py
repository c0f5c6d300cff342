"""Synthesising a corpus split for evaluation: WAVs, durations on one phoneme sequence, seeds, `evaluate tts`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
import torch

from prosody_tts.cli import main
from prosody_tts.configuration import DualStreamConfig, GradTTSConfig, GriffinLimConfig
from prosody_tts.modeling import GradTTSModel, GriffinLimVocoder, TextToWaveformModel
from prosody_tts.pipelines.corpus_synthesis import synthesize_corpus


@pytest.fixture(scope="module")
def corpus_tts_dir(processor, tiny_corpus_dir, tmp_path_factory):
    """A random tiny multi-speaker text-to-waveform model whose speakers are the tiny corpus' ones."""
    speakers = sorted({json.loads(line)["speaker"] for line in (tiny_corpus_dir / "train.jsonl").read_text(encoding="utf-8").splitlines()})
    torch.manual_seed(0)
    text = DualStreamConfig.tiny(phoneme_vocab_size=len(processor.tokenizer), bpe_vocab_size=len(processor.bpe_tokenizer))
    tts = GradTTSModel(GradTTSConfig.with_text_encoder(
        text, num_speakers=len(speakers), speaker_names=speakers, decoder_dim=16, decoder_dim_mults=[1, 2],
        decoder_attention_heads=2, decoder_attention_head_dim=8, duration_predictor_channels=32, segment_frames=32,
    ))  # fmt: skip
    vocoder = GriffinLimVocoder(GriffinLimConfig.from_feature_extractor(processor.feature_extractor, n_iter=4, nnls_iter=10))
    path = tmp_path_factory.mktemp("corpus_tts")
    TextToWaveformModel.from_parts(tts, vocoder, n_timesteps=2).save_pretrained(path)
    processor.save_pretrained(path)
    return path


def test_synthesize_corpus_writes_wavs_with_durations_on_the_corpus_phonemes(corpus_tts_dir, tiny_corpus_dir, tmp_path):
    from prosody_tts.cli.evaluate_synthesis import corpus_rows
    from prosody_tts.pipelines.text_to_speech import load_text_to_speech

    model, processor = load_text_to_speech(str(corpus_tts_dir))
    rows = corpus_rows(str(tiny_corpus_dir), "heldout")
    entries, problems = synthesize_corpus(model, processor, rows, tmp_path / "a", limit=2, show_progress=False)
    assert problems == [] and len(entries) == 2
    for entry, row in zip(entries, rows[:2], strict=True):
        assert entry["id"] == row["id"] and entry["text"] == row["text"]
        audio, rate = soundfile.read(entry["synthesized"])
        assert rate == model.config.sampling_rate and len(audio) > 0 and np.isfinite(audio).all()
        assert len(entry["reference_durations"]) == len(entry["synthesized_durations"])
        assert sum(entry["reference_durations"]) == pytest.approx(sum(row["phoneme_durations"]))
    again, _ = synthesize_corpus(model, processor, rows, tmp_path / "b", limit=2, show_progress=False)
    for first, second in zip(entries, again, strict=True):  # same model, rows and seed → same audio
        np.testing.assert_array_equal(soundfile.read(first["synthesized"])[0], soundfile.read(second["synthesized"])[0])
    with pytest.raises(ValueError, match="limit"):
        synthesize_corpus(model, processor, rows, tmp_path / "c", limit=0)


def test_cli_evaluate_tts(corpus_tts_dir, tiny_corpus_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    code = main(["evaluate", "tts", "--model", str(corpus_tts_dir), "--data", str(tiny_corpus_dir), "--limit", "2",
                 "--speaker-encoder", "none", "--no-mos-proxy", "--no-figures", "--out", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "| duration error (frames/phoneme) |" in captured.out and "| MCD (dB) |" in captured.out
    assert len(list((out / "synthesized").glob("*.wav"))) == 2
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["utterances"] == 2 and summary["summary"]["duration_error_frames"]["count"] == 2
    with pytest.raises(SystemExit, match="not an embedded corpus"):
        main(["evaluate", "tts", "--model", str(corpus_tts_dir), "--data", str(tmp_path), "--out", str(out)])
