"""Test settings: no network (a stray download fails loudly), shared heavy fixtures."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest


@pytest.fixture(scope="session")
def stress_placer():
    """One silero-stress model for the whole session (loading takes seconds)."""
    from prosody_tts.processing.stress import StressPlacer

    placer = StressPlacer()
    placer("прогрев")
    return placer


@pytest.fixture(scope="session")
def frontend(stress_placer):
    from prosody_tts.processing.frontend import RussianFrontend

    return RussianFrontend(stress=stress_placer)


@pytest.fixture(scope="session")
def processor(frontend):
    from prosody_tts.processing.processing_dual_stream import DualStreamProcessor

    processor = DualStreamProcessor.from_defaults()
    processor.frontend = frontend
    return processor
