"""Evaluation figures: PNGs are written, inputs are checked, TensorBoard gets an events file."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install 'prosody-tts[plots]'")

from prosody_tts.evaluation.plots import (
    log_figures_to_tensorboard,
    plot_loss_curves,
    plot_per_phoneme_recall,
    plot_similarity_matrix,
    plot_spectrograms,
)
from prosody_tts.evaluation.retrieval import RetrievalResult


def _result() -> RetrievalResult:
    return RetrievalResult(
        r1_diff=0.5, r1_sim=0.2, r5_diff=0.9, r5_sim=0.6, mrr_diff=0.7, mrr_sim=0.4,
        chance_r1=1 / 8, chance_r5=5 / 8, chance_mrr=0.34, num_candidates=8,
        num_anchors_diff=30, num_anchors_sim=20, skipped_sim=10, seed=0,
        per_phoneme={
            "a": {"r1_diff": 0.6, "r1_sim": 0.25, "anchors": 20, "anchors_sim": 20},
            "ˈa": {"r1_diff": 0.3, "r1_sim": None, "anchors": 10, "anchors_sim": 0},
        },
    )


def test_similarity_matrix(tmp_path):
    text = torch.randn(6, 8)
    audio = text + 0.1 * torch.randn(6, 8)
    path = tmp_path / "sim" / "matrix.png"
    figure = plot_similarity_matrix(text, audio, ["a", "ˈo", "ɕ", "ɨ", "t", "tʲ"], path, title="tiny")
    assert path.stat().st_size > 1000
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()][:3] == ["a", "ˈo", "ɕ"]
    assert axes.images[0].get_array().shape == (6, 6)
    with pytest.raises(ValueError, match="labels"):
        plot_similarity_matrix(text, audio, ["a"], tmp_path / "bad.png")
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        plot_similarity_matrix(np.zeros((3, 2)), np.zeros((3, 4)), ["a", "b", "c"], tmp_path / "bad.png")


def test_per_phoneme_recall(tmp_path):
    result = _result()
    figure = plot_per_phoneme_recall(result, tmp_path / "recall.png")
    assert (tmp_path / "recall.png").stat().st_size > 1000
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["a", "ˈa"]
    plot_per_phoneme_recall(result.to_dict(), tmp_path / "from_dict.png")
    assert (tmp_path / "from_dict.png").stat().st_size > 1000
    empty = result.to_dict() | {"per_phoneme": {}}
    with pytest.raises(ValueError, match="per-phoneme"):
        plot_per_phoneme_recall(empty, tmp_path / "empty.png")


def test_loss_curves(tmp_path):
    history = [
        {"loss": 1.0, "batch_r1": 0.1, "learning_rate": 1e-3, "step": 1, "epoch": 0.1},
        {"loss": 0.8, "batch_r1": 0.2, "note": "text", "flag": True, "step": 2},
        {"loss": float("nan"), "nested": {"x": 1}, "step": 3},
        {"eval_loss": 0.9, "eval_r1": 0.3, "step": 2},
        {"train_runtime": 12.0, "total_flos": 5.0, "step": 3},
        {"loss": 0.5},  # no step: skipped
    ]
    figure = plot_loss_curves(history, tmp_path / "curves.png")
    titles = [axes.get_title() for axes in figure.axes if axes.get_visible()]
    assert titles == ["loss", "eval_loss", "batch_r1", "learning_rate"]
    assert list(figure.axes[0].lines[0].get_xdata()) == [1.0, 2.0]  # NaN and step-less entries dropped
    assert (tmp_path / "curves.png").stat().st_size > 1000
    every = plot_loss_curves(history, tmp_path / "all.png", keys=None)
    titles = sorted(axes.get_title() for axes in every.axes if axes.get_visible())
    assert titles == ["batch_r1", "eval_loss", "eval_r1", "learning_rate", "loss"]  # no bools, strings, bookkeeping
    with pytest.raises(ValueError, match="no values"):
        plot_loss_curves([{"note": "x", "step": 1}], tmp_path / "none.png", keys=None)


def test_tensorboard_events(tmp_path):
    pytest.importorskip("tensorboard")
    figure = plot_per_phoneme_recall(_result(), tmp_path / "recall.png")
    log_dir = tmp_path / "tb"
    assert log_figures_to_tensorboard(log_dir, {"retrieval/per_phoneme": figure}, step=3) == str(log_dir)
    events = list(log_dir.glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 1000
    with pytest.raises(ValueError, match="no figures"):
        log_figures_to_tensorboard(log_dir, {})


def test_missing_matplotlib_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # `import matplotlib.figure` now fails
    with pytest.raises(ImportError, match=r"pip install 'prosody-tts\[plots\]'"):
        plot_per_phoneme_recall(_result(), tmp_path / "x.png")


def test_spectrogram_panels_share_one_colour_scale(tmp_path):
    generated, truth = torch.randn(50, 80) - 5, torch.randn(60, 80) - 4
    figure = plot_spectrograms({"generated": generated, "ground truth": truth}, tmp_path / "mels.png", hop_seconds=256 / 22050)
    assert (tmp_path / "mels.png").stat().st_size > 0
    images = [axes.images[0] for axes in figure.axes if axes.images]
    assert len(images) == 2 and len({image.get_clim() for image in images}) == 1
    assert images[0].get_clim() == pytest.approx((float(min(generated.min(), truth.min())), float(max(generated.max(), truth.max()))))
    with pytest.raises(ValueError, match="frames, n_mels"):
        plot_spectrograms({"bad": torch.zeros(3)})
    with pytest.raises(ValueError, match="no spectrograms"):
        plot_spectrograms({})
