"""Figures for evaluation reports and TensorBoard: similarity matrix, per-phoneme recall, training curves.

matplotlib is an optional dependency (``pip install 'prosody-tts[plots]'``), imported only when a
plot is made. Figures are built with the object-oriented API on the Agg canvas: no pyplot state,
no display, safe in headless jobs and never changing the caller's backend. Each ``plot_*``
function saves a PNG and returns the ``matplotlib.figure.Figure``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_CURVE_KEYS",
    "figure_image",
    "log_figures_to_tensorboard",
    "plot_alignment",
    "plot_f0_contours",
    "plot_loss_curves",
    "plot_metric_distributions",
    "plot_per_phoneme_recall",
    "plot_similarity_matrix",
    "plot_spectrograms",
    "similarity_sample",
]

#: Scalars ``ContrastiveTrainer`` / ``Trainer`` log that :func:`plot_loss_curves` draws by default.
DEFAULT_CURVE_KEYS: tuple[str, ...] = (
    "loss",
    "eval_loss",
    "batch_r1",
    "positive_logit",
    "negative_logit",
    "logit_scale",
    "logit_bias",
    "learning_rate",
    "grad_norm",
)
#: log_history keys that are bookkeeping, never curves (used when ``keys=None``).
NON_CURVE_KEYS: frozenset[str] = frozenset(
    {"step", "epoch", "total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second"}
)
_INSTALL_HINT = "plots need matplotlib: pip install 'prosody-tts[plots]'"


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(_INSTALL_HINT) from error
    return Figure


def _save(figure: Any, path: str | os.PathLike, dpi: int) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)  # attach the Agg canvas: no GUI backend is ever touched
    figure.savefig(target, dpi=dpi, format="png")


def _as_numpy(array: Any) -> np.ndarray:
    if hasattr(array, "detach"):  # torch tensor
        array = array.detach().float().cpu().numpy()
    return np.asarray(array, dtype=np.float64)


def similarity_sample(identities: Sequence[str], size: int, seed: int) -> list[int]:
    """Up to ``size`` occurrence indices for the similarity figure: one per identity first (seeded),
    then others; sorted by identity so equal phonemes sit together on the axes."""
    order = np.random.default_rng(seed).permutation(len(identities))
    picked, seen = [], set()
    for i in order:
        if identities[i] not in seen:
            seen.add(identities[i])
            picked.append(int(i))
    chosen = set(picked)
    picked = (picked + [int(i) for i in order if int(i) not in chosen])[:size]
    return sorted(picked, key=lambda i: (identities[i], i))


def plot_similarity_matrix(
    text_embeds: Any,
    audio_embeds: Any,
    labels: Sequence[str],
    path: str | os.PathLike,
    title: str = "text anchors vs audio segments (cosine)",
    *,
    max_labels: int = 80,
    cell_inches: float = 0.22,
    min_inches: float = 4.0,
    dpi: int = 120,
) -> Any:
    """N×N cosine heat map of text rows against audio columns, phoneme labels on both axes.

    Row i and column i are the same occurrence, so a trained model lights up the diagonal.

    Args:
        text_embeds / audio_embeds: (N, D) tensors or arrays (normalised here).
        labels: N phoneme labels (tick labels are dropped when N > ``max_labels``).
        path: the PNG to write.
        cell_inches / min_inches / dpi: figure geometry.
    """
    text, audio = _as_numpy(text_embeds), _as_numpy(audio_embeds)
    if text.ndim != 2 or text.shape != audio.shape:
        raise ValueError(f"text and audio embeddings must both be (N, D), got {text.shape} and {audio.shape}")
    if len(labels) != text.shape[0]:
        raise ValueError(f"{text.shape[0]} embeddings but {len(labels)} labels")
    if text.shape[0] == 0:
        raise ValueError("no embeddings to plot")
    text = text / np.maximum(np.linalg.norm(text, axis=1, keepdims=True), 1e-12)
    audio = audio / np.maximum(np.linalg.norm(audio, axis=1, keepdims=True), 1e-12)
    similarity = text @ audio.T  # (N, N)
    n = similarity.shape[0]
    side = max(min_inches, cell_inches * n + 2.0)
    figure = _figure_class()(figsize=(side + 1.0, side))
    axes = figure.add_subplot()
    image = axes.imshow(similarity, cmap="viridis", vmin=-1.0, vmax=1.0, interpolation="nearest")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="cosine")
    if n <= max_labels:
        ticks = np.arange(n)
        axes.set_xticks(ticks, labels=[str(label) for label in labels], rotation=90, fontsize=8)
        axes.set_yticks(ticks, labels=[str(label) for label in labels], fontsize=8)
    axes.set_xlabel("audio segment")
    axes.set_ylabel("text anchor")
    axes.set_title(title)
    figure.tight_layout()
    _save(figure, path, dpi)
    return figure


def plot_per_phoneme_recall(
    result: Any,
    path: str | os.PathLike,
    title: str | None = None,
    *,
    bar_inches: float = 0.32,
    min_width: float = 6.0,
    height: float = 4.0,
    dpi: int = 120,
) -> Any:
    """Bars of per-phoneme R@1-diff and R@1-sim with the chance line (1/N).

    Args:
        result: a :class:`~.retrieval.RetrievalResult` or its ``to_dict()``.
        path: the PNG to write. Identities without -sim anchors get no -sim bar.
    """
    data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    per_phoneme: Mapping[str, Mapping[str, Any]] = data.get("per_phoneme") or {}
    if not per_phoneme:
        raise ValueError("the result has no per-phoneme numbers to plot")
    names = list(per_phoneme)
    diff = [float(per_phoneme[name]["r1_diff"]) for name in names]
    sim = [math.nan if per_phoneme[name].get("r1_sim") is None else float(per_phoneme[name]["r1_sim"]) for name in names]
    x = np.arange(len(names))
    figure = _figure_class()(figsize=(max(min_width, bar_inches * len(names) + 1.5), height))
    axes = figure.add_subplot()
    width = 0.4
    axes.bar(x - width / 2, diff, width, label="R@1-diff")
    axes.bar(x + width / 2, sim, width, label="R@1-sim")
    axes.axhline(float(data["chance_r1"]), color="black", linestyle="--", linewidth=1, label=f"chance (1/{data['num_candidates']})")
    axes.set_xticks(x, labels=names, fontsize=8)
    axes.set_ylim(0.0, 1.0)
    axes.set_ylabel("R@1")
    axes.set_title(title or f"per-phoneme R@1, N = {data['num_candidates']}")
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    _save(figure, path, dpi)
    return figure


def _is_scalar(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(float(value))


def plot_loss_curves(
    log_history: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    keys: Sequence[str] | None = DEFAULT_CURVE_KEYS,
    title: str = "training curves",
    *,
    panel_inches: tuple[float, float] = (4.0, 2.6),
    columns: int = 3,
    dpi: int = 120,
) -> Any:
    """One panel per logged scalar, value vs ``step`` (``trainer.state.log_history``).

    Args:
        log_history: the Trainer's list of logged dicts; entries without ``step`` and values
            that are not finite numbers are skipped.
        keys: the keys to draw when present (in this order); ``None``: every numeric key except
            bookkeeping (:data:`NON_CURVE_KEYS`).
        columns: panels per row.

    Raises:
        ValueError: no requested key has a numeric value in the history.
    """
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for entry in log_history:
        if not _is_scalar(entry.get("step")):
            continue
        for key, value in entry.items():
            if key in NON_CURVE_KEYS or (keys is not None and key not in keys) or not _is_scalar(value):
                continue
            steps, values = curves.setdefault(key, ([], []))
            steps.append(float(entry["step"]))
            values.append(float(value))
    if not curves:
        wanted = "any numeric key" if keys is None else f"any of {list(keys)}"
        raise ValueError(f"log_history has no values for {wanted}")
    names = [key for key in keys if key in curves] if keys is not None else sorted(curves)
    columns = max(1, min(columns, len(names)))
    rows = -(-len(names) // columns)
    figure = _figure_class()(figsize=(panel_inches[0] * columns, panel_inches[1] * rows + 0.6))
    grid = figure.subplots(rows, columns, squeeze=False)
    for number, axes in enumerate(grid.flat):
        if number >= len(names):
            axes.set_visible(False)
            continue
        steps, values = curves[names[number]]
        axes.plot(steps, values, marker="." if len(steps) < 50 else None, linewidth=1)
        axes.set_title(names[number], fontsize=9)
        axes.set_xlabel("step", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    _save(figure, path, dpi)
    return figure


def figure_image(figure: Any) -> np.ndarray:
    """(3, H, W) uint8 RGB rendering of a figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())  # (H, W, 4)
    return np.ascontiguousarray(np.moveaxis(rgba[:, :, :3], 2, 0))


def log_figures_to_tensorboard(log_dir: str | os.PathLike, figures: Mapping[str, Any], step: int = 0) -> str:
    """Write figures as TensorBoard images (tag = dict key) under ``log_dir``; returns ``log_dir``."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("TensorBoard logging needs tensorboard: pip install tensorboard") from error
    if not figures:
        raise ValueError("no figures to log")
    writer = SummaryWriter(log_dir=os.fspath(log_dir))
    try:
        for tag, figure in figures.items():
            writer.add_image(tag, figure_image(figure), global_step=step, dataformats="CHW")
    finally:
        writer.close()
    return os.fspath(log_dir)


def plot_spectrograms(
    spectrograms: Mapping[str, Any],
    path: str | os.PathLike | None = None,
    title: str = "log-mel spectrograms",
    *,
    hop_seconds: float | None = None,
    frames_per_inch: float = 40.0,
    dpi: int = 110,
) -> Any:
    """One panel per (frames, n_mels) log-mel spectrogram (e.g. generated vs ground truth), one colour scale.

    Args:
        spectrograms: panel title → (T, M) array or tensor; panels share the colour scale.
        path: the PNG to write (None: only return the figure, e.g. for TensorBoard).
        hop_seconds: seconds per frame; the x axis is then in seconds (frames otherwise).
        frames_per_inch / dpi: figure geometry.
    """
    if not spectrograms:
        raise ValueError("no spectrograms to plot")
    arrays = {name: _as_numpy(value) for name, value in spectrograms.items()}
    for name, array in arrays.items():
        if array.ndim != 2 or array.shape[0] == 0:
            raise ValueError(f"spectrogram {name!r} must be a non-empty (frames, n_mels) array, got shape {array.shape}")
    low = min(float(a.min()) for a in arrays.values())
    high = max(float(a.max()) for a in arrays.values())
    longest = max(a.shape[0] for a in arrays.values())
    figure = _figure_class()(figsize=(max(6.0, longest / frames_per_inch + 2.0), 2.2 * len(arrays) + 0.6))
    for row, (name, array) in enumerate(arrays.items(), start=1):
        axes = figure.add_subplot(len(arrays), 1, row)
        extent = None if hop_seconds is None else (0.0, array.shape[0] * hop_seconds, 0, array.shape[1])
        image = axes.imshow(
            array.T, origin="lower", aspect="auto", cmap="magma", vmin=low, vmax=high, interpolation="nearest", extent=extent
        )
        axes.set_title(name, fontsize=10)
        axes.set_ylabel("mel bin")
        figure.colorbar(image, ax=axes, fraction=0.03, pad=0.01, label="log")
    axes.set_xlabel("seconds" if hop_seconds else "frame")
    figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        _save(figure, path, dpi)
    return figure


def plot_f0_contours(
    contours: Mapping[str, Mapping[str, Any]],
    path: str | os.PathLike | None = None,
    *,
    frame_seconds: float,
    dpi: int = 110,
) -> Any:
    """One panel per utterance: reference F0 and the synthesised F0 warped onto the reference's time axis.

    Args:
        contours: utterance id → ``{"reference_f0" (T_r,), "synthesized_f0" (T_s,), "path" (N, 2)}``
            (NaN = unvoiced), as :func:`~prosody_tts.evaluation.prosody.score_acoustics` returns.
        frame_seconds: seconds per F0 frame (the x axis).
    """
    if not contours:
        raise ValueError("no F0 contours to plot")
    figure = _figure_class()(figsize=(9.0, 2.0 * len(contours) + 0.6))
    for row, (name, track) in enumerate(contours.items(), start=1):
        reference = np.asarray(track["reference_f0"], dtype=np.float64)
        synthesized = np.asarray(track["synthesized_f0"], dtype=np.float64)
        warp = np.asarray(track["path"], dtype=np.int64)
        warp = warp[(warp[:, 0] < len(reference)) & (warp[:, 1] < len(synthesized))]
        axes = figure.add_subplot(len(contours), 1, row)
        axes.plot(np.arange(len(reference)) * frame_seconds, reference, color="black", linewidth=1.4, label="reference")
        axes.plot(warp[:, 0] * frame_seconds, synthesized[warp[:, 1]], color="tab:orange", linewidth=1.0,
                  label="synthesized (DTW-warped)")  # fmt: skip
        axes.set_title(str(name), fontsize=9)
        axes.set_ylabel("F0 (Hz)")
        axes.grid(alpha=0.3)
        if row == 1:
            axes.legend(fontsize=8, loc="upper right")
    axes.set_xlabel("reference time (s)")
    figure.tight_layout()
    if path is not None:
        _save(figure, path, dpi)
    return figure


def plot_metric_distributions(
    records: Sequence[Mapping[str, Any]],
    metrics: Mapping[str, str],
    path: str | os.PathLike | None = None,
    *,
    bins: int = 20,
    dpi: int = 110,
) -> Any:
    """A histogram per metric of its per-utterance values (NaN left out; the title says how many).

    Args:
        records: per-utterance records.
        metrics: record key → axis label, for the keys to draw (absent keys are skipped).
    """
    present = {key: label for key, label in metrics.items() if any(_is_number(r.get(key)) for r in records)}
    if not present:
        raise ValueError("none of the metrics has a value to plot")
    columns = min(3, len(present))
    rows = math.ceil(len(present) / columns)
    figure = _figure_class()(figsize=(3.4 * columns, 2.6 * rows))
    for index, (key, label) in enumerate(present.items(), start=1):
        values = np.array([float(r[key]) for r in records if _is_number(r.get(key))], dtype=np.float64)
        finite = values[np.isfinite(values)]
        axes = figure.add_subplot(rows, columns, index)
        if len(finite):
            axes.hist(finite, bins=bins, color="tab:blue", alpha=0.8)
            axes.axvline(finite.mean(), color="black", linestyle="--", linewidth=1.0)
        axes.set_title(f"{label} (n={len(finite)}, undefined {len(values) - len(finite)})", fontsize=8)
        axes.tick_params(labelsize=7)
    figure.tight_layout()
    if path is not None:
        _save(figure, path, dpi)
    return figure


def _is_number(value: Any) -> bool:  # NaN included (drawn as "undefined")
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def plot_alignment(
    log_mel: Any,
    hypothesis: Sequence[tuple[str, float, float]],
    path: str | os.PathLike | None = None,
    reference: Sequence[tuple[str, float, float]] | None = None,
    *,
    hop_seconds: float,
    title: str = "alignment",
    seconds_per_inch: float = 0.6,
    dpi: int = 110,
) -> Any:
    """A log-mel with the aligner's phone boundaries (white, labelled) and a reference's (cyan, dashed).

    Args:
        log_mel: (T, M) log-mel of the utterance.
        hypothesis / reference: ``(phone, start_s, end_s)`` segments (:mod:`.alignment_accuracy`).
        path: the PNG to write (None: only return the figure).
        hop_seconds: seconds per mel frame.
    """
    array = _as_numpy(log_mel)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"log_mel must be a non-empty (frames, n_mels) array, got shape {array.shape}")
    if not hypothesis:
        raise ValueError("no hypothesis segments to draw")
    seconds = array.shape[0] * hop_seconds
    figure = _figure_class()(figsize=(max(6.0, seconds / seconds_per_inch + 1.5), 3.4))
    axes = figure.add_subplot(1, 1, 1)
    axes.imshow(array.T, origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
                extent=(0.0, seconds, 0, array.shape[1]))  # fmt: skip
    top = array.shape[1]
    for symbol, start, end in hypothesis:
        axes.axvline(start, color="white", linewidth=0.8)
        axes.text((start + end) / 2, top * 0.92, symbol, color="white", fontsize=7, ha="center", va="top")
    axes.axvline(hypothesis[-1][2], color="white", linewidth=0.8)
    for symbol, start, end in reference or ():
        axes.axvline(start, color="cyan", linewidth=0.8, linestyle="--", ymax=0.8)
        axes.text((start + end) / 2, top * 0.05, symbol, color="cyan", fontsize=7, ha="center", va="bottom")
    axes.set_xlabel("seconds")
    axes.set_ylabel("mel bin")
    axes.set_title(f"{title}  (white: aligner" + (", cyan: reference)" if reference else ")"), fontsize=10)
    figure.tight_layout()
    if path is not None:
        _save(figure, path, dpi)
    return figure
