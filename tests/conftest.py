"""Test settings: no network (a stray download fails loudly), shared heavy fixtures."""

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
