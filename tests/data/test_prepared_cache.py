"""A prepared cache is never lost: a re-preparation that yields nothing raises and leaves it as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from prosody_tts.constants import PREPARED_FILE
from prosody_tts.data.prepared import prepare_corpus


def test_an_empty_re_preparation_keeps_the_cache(prepared_tiny, processor, tmp_path):
    source = Path(prepared_tiny["heldout"].rows.cache_files[0]["filename"]).parent
    cache = tmp_path / "heldout"
    shutil.copytree(source, cache)
    before = (cache / PREPARED_FILE).read_bytes()
    with pytest.raises(ValueError, match="kept as it was"):  # the filter differs, and there is nothing to prepare
        prepare_corpus([], processor, cache_dir=cache, show_progress=False, require_durations=False)
    assert (cache / PREPARED_FILE).read_bytes() == before
    assert not list(cache.glob("*.partial"))
    again = prepare_corpus([], processor, cache_dir=cache, show_progress=False)  # the original filter reuses it
    assert len(again) == len(prepared_tiny["heldout"])
