"""Test settings: no network (a stray download fails loudly), shared heavy fixtures."""

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest


@pytest.fixture(scope="session")
def stress_placer():
    """One silero-stress model for the whole session (loading takes seconds)."""
    from prosody_tts.text.stress import StressPlacer

    placer = StressPlacer()
    placer("прогрев")
    return placer


@pytest.fixture(scope="session")
def frontend(stress_placer):
    from prosody_tts.text.frontend import RussianFrontend

    return RussianFrontend(stress=stress_placer)


@pytest.fixture(scope="session")
def processor(frontend):
    from prosody_tts.processing.processing_dual_stream import DualStreamProcessor

    processor = DualStreamProcessor.from_defaults()
    processor.frontend = frontend
    return processor


@pytest.fixture(scope="session")
def tiny_corpus_dir(tmp_path_factory):
    """A small embedded corpus (2 speakers x 12 utterances) shared by the training tests."""
    pytest.importorskip("espeakng_loader", reason="the embedded corpus needs espeak-ng: pip install 'prosody-tts[espeak]'")
    from prosody_tts.data.sources.embedded import build_embedded_corpus

    path = tmp_path_factory.mktemp("tiny_corpus")
    build_embedded_corpus(path, utterances_per_speaker=12, speakers=2, seed=0, workers=1, show_progress=False)
    return path


@pytest.fixture(scope="session")
def prepared_tiny(tiny_corpus_dir, processor, tmp_path_factory):
    """The tiny corpus' train and held-out splits, prepared (mels + tokens) once."""
    from prosody_tts.data.prepared import prepare_corpus
    from prosody_tts.data.sources.embedded import load_embedded_corpus

    cache = tmp_path_factory.mktemp("prepared")
    return {
        split: prepare_corpus(
            load_embedded_corpus(tiny_corpus_dir, split), processor, cache_dir=cache / split, show_progress=False
        )
        for split in ("train", "heldout")
    }

@pytest.fixture(scope="session")
def corpus_utterances(tiny_corpus_dir):
    """``{speaker: [(waveform float32, rate, row), ...]}`` of the tiny corpus' train split."""
    from prosody_tts.processing.audio import load_audio

    by_speaker: dict[str, list] = {}
    with open(tiny_corpus_dir / "train.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            waveform, rate = load_audio(tiny_corpus_dir / row["audio"])
            by_speaker.setdefault(row["speaker"], []).append((waveform, rate, row))
    return by_speaker


#: a Russian character vocabulary for the tiny CTC model ("|" separates words)
_LETTERS = "абвгдежзийклмнопрстуфхцчшщъыьэюя"


def _tiny_wav2vec2_config(**extra):
    from transformers import Wav2Vec2Config

    return Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
        conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, do_stable_layer_norm=False, **extra,
    )  # fmt: skip


@pytest.fixture(scope="session")
def tiny_asr_dir(tmp_path_factory):
    """A randomly initialised wav2vec2-CTC recogniser with a Russian letter vocabulary, saved locally."""
    import torch
    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC, Wav2Vec2Processor

    path = tmp_path_factory.mktemp("tiny_asr")
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate(_LETTERS)}}
    (path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = Wav2Vec2CTCTokenizer(str(path / "vocab.json"), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(path)
    torch.manual_seed(0)
    config = _tiny_wav2vec2_config(vocab_size=len(vocab), pad_token_id=0, ctc_loss_reduction="mean")
    Wav2Vec2ForCTC(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_xvector_dir(tmp_path_factory):
    """A randomly initialised wav2vec2 x-vector speaker model, saved locally with its feature extractor."""
    import torch
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForXVector

    path = tmp_path_factory.mktemp("tiny_xvector")
    torch.manual_seed(0)
    config = _tiny_wav2vec2_config(tdnn_dim=(16, 16), tdnn_kernel=(3, 1), tdnn_dilation=(1, 1), xvector_output_dim=8)
    Wav2Vec2ForXVector(config).save_pretrained(path)
    Wav2Vec2FeatureExtractor(sampling_rate=16000, return_attention_mask=True).save_pretrained(path)
    return path
