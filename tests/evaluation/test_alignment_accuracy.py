"""Boundary errors of alignments: segments from durations, Levenshtein matching, the summary, festvox mapping."""

from __future__ import annotations

import doctest

import pytest

from prosody_tts.data.sources.festvox import FESTVOX_TO_IPA
from prosody_tts.evaluation import alignment_accuracy
from prosody_tts.evaluation.alignment_accuracy import (
    boundary_errors,
    festvox_segments,
    match_segments,
    phoneme_segments,
    summarize_boundary_errors,
)

FRAME = 0.01


def test_module_examples_run():
    assert doctest.testmod(alignment_accuracy).failed == 0


def test_segments_skip_non_phonemes_but_keep_their_time():
    segments = phoneme_segments(["p", "ˈa", ",", "#", "t", "."], [2, 3, 4, 0, 2, 1], FRAME)
    assert segments == [("p", 0.0, 0.02), ("ˈa", 0.02, 0.05), ("t", 0.09, 0.11)]


def test_folded_edge_silence_is_taken_back_out():
    # 3 frames of leading silence folded into "p", 2 of trailing into "."
    segments = phoneme_segments(["p", "a", "."], [5, 4, 3], FRAME, edge_silence=(3, 2))
    assert segments == [("p", 0.03, 0.05), ("a", 0.05, 0.09)]
    with pytest.raises(ValueError, match="exceeds"):
        phoneme_segments(["p"], [2], FRAME, edge_silence=(2, 1))


def test_a_uniform_shift_is_measured_exactly():
    reference = phoneme_segments(["p", "a", "t", "a"], [4, 6, 3, 7], FRAME)
    shifted = [(s, a + 0.02, b + 0.02) for s, a, b in reference]
    errors, unmatched = boundary_errors(reference, shifted)
    assert unmatched == 0 and errors == pytest.approx([0.02] * 8)  # hypothesis − reference: late
    summary = summarize_boundary_errors([(errors, 0, 4)])
    assert summary.median_ms == pytest.approx(20.0) and summary.mean_ms == pytest.approx(20.0)
    assert summary.median_signed_ms == pytest.approx(20.0)
    early = summarize_boundary_errors([([-e for e in errors], 0, 4)])
    assert early.median_ms == pytest.approx(20.0) and early.median_signed_ms == pytest.approx(-20.0)
    assert summary.within_ms == {"20": 1.0, "50": 1.0} and summary.matched_share == 1.0


def test_substitutions_are_compared_and_insertions_counted():
    reference = [("p", 0.0, 0.1), ("ɐ", 0.1, 0.2), ("t", 0.2, 0.3)]
    hypothesis = [("p", 0.0, 0.12), ("ə", 0.12, 0.2), ("t", 0.2, 0.25), ("j", 0.25, 0.3)]
    pairs, unmatched = match_segments(reference, hypothesis)
    assert [(r[0], h[0]) for r, h in pairs] == [("p", "p"), ("ɐ", "ə"), ("t", "t")]
    assert unmatched == 1
    errors, _ = boundary_errors(reference, hypothesis)
    summary = summarize_boundary_errors([(errors, unmatched, len(reference))])
    assert summary.boundaries == 6 and summary.matched_share == 1.0
    assert summary.within_ms["20"] == pytest.approx(5 / 6, abs=1e-4)  # only "t"'s offset is 50 ms off


def test_festvox_phones_map_onto_our_symbols_and_pauses_drop():
    lab = [("pau", 0.0, 0.3), ("p", 0.3, 0.35), ("aa", 0.35, 0.5), ("sch", 0.5, 0.6), ("pau", 0.6, 0.9)]
    assert festvox_segments(lab) == [("p", 0.3, 0.35), ("ˈa", 0.35, 0.5), (FESTVOX_TO_IPA["sch"], 0.5, 0.6)]
    with pytest.raises(ValueError, match="not in FESTVOX_TO_IPA"):
        festvox_segments([("qq", 0.0, 0.1)])


def test_nothing_to_summarise_is_an_error():
    with pytest.raises(ValueError, match="no matched phone boundaries"):
        summarize_boundary_errors([])
