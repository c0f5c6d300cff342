"""SIM-o: resemblyzer same speaker > different speaker on real utterances; ECAPA and x-vector directories."""

from __future__ import annotations

import numpy as np
import pytest

from prosody_tts.evaluation.speaker_similarity import (
    EcapaSpeakerEncoder,
    TransformersSpeakerEncoder,
    cosine_similarity,
    load_speaker_encoder,
    speaker_similarity,
)


def test_cosine_similarity():
    assert cosine_similarity(np.array([1.0, 0.0]), np.array([2.0, 0.0])) == pytest.approx(1.0)
    assert cosine_similarity(np.array([1.0, 0.0]), np.array([0.0, 3.0])) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="zero"):
        cosine_similarity(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="sizes"):
        cosine_similarity(np.ones(2), np.ones(3))


def _same_and_different(encoder, corpus_utterances):
    a, b = sorted(corpus_utterances)
    same = [
        speaker_similarity(encoder, corpus_utterances[s][i][0], corpus_utterances[s][i + 1][0],
                           corpus_utterances[s][i][1], corpus_utterances[s][i + 1][1])
        for s in (a, b) for i in (0, 2, 4)
    ]  # fmt: skip
    different = [
        speaker_similarity(encoder, corpus_utterances[a][i][0], corpus_utterances[b][i][0],
                           corpus_utterances[a][i][1], corpus_utterances[b][i][1])
        for i in range(6)
    ]  # fmt: skip
    return np.array(same), np.array(different)


def test_resemblyzer_sim_o_separates_speakers(corpus_utterances):
    """The issue's check: SIM-o of one speaker's two utterances beats SIM-o across speakers."""
    pytest.importorskip("resemblyzer")
    encoder = load_speaker_encoder("resemblyzer")
    same, different = _same_and_different(encoder, corpus_utterances)
    assert same.min() > different.max()
    assert same.mean() > 0.8
    waveform, rate, _ = next(iter(corpus_utterances.values()))[0]
    assert speaker_similarity(encoder, waveform, waveform, rate, rate) == pytest.approx(1.0, abs=1e-6)


def test_ecapa_encoder_from_a_tower_and_from_a_contrastive_directory(tmp_path, corpus_utterances):
    from prosody_tts.configuration import EcapaTdnnConfig
    from prosody_tts.modeling import EcapaTdnnModel
    from prosody_tts.processing import MelFeatureExtractor

    config = EcapaTdnnConfig.tiny() if hasattr(EcapaTdnnConfig, "tiny") else EcapaTdnnConfig()
    EcapaTdnnModel(config).save_pretrained(tmp_path / "tower")
    MelFeatureExtractor().save_pretrained(tmp_path / "tower")
    encoder = load_speaker_encoder(f"ecapa:{tmp_path / 'tower'}")
    assert isinstance(encoder, EcapaSpeakerEncoder)
    waveform, rate, _ = next(iter(corpus_utterances.values()))[0]
    embedding = encoder.embed(waveform, rate)
    assert embedding.shape == (config.embedding_dim,) and np.isfinite(embedding).all()
    assert speaker_similarity(encoder, waveform, waveform, rate, rate) == pytest.approx(1.0, abs=1e-6)


def test_transformers_xvector_directory(tiny_xvector_dir, corpus_utterances):
    encoder = load_speaker_encoder(str(tiny_xvector_dir))
    assert isinstance(encoder, TransformersSpeakerEncoder)
    waveform, rate, _ = next(iter(corpus_utterances.values()))[0]
    assert encoder.embed(waveform, rate).shape == (8,)
    other = next(iter(corpus_utterances.values()))[1]
    value = speaker_similarity(encoder, waveform, other[0], rate, other[1])
    assert -1.0 <= value <= 1.0


def test_a_missing_directory_is_an_error_not_a_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_speaker_encoder(str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="ECAPA"):
        load_speaker_encoder(f"ecapa:{tmp_path / 'absent'}")
