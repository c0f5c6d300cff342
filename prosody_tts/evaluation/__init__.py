"""Evaluation of trained models: held-out phoneme retrieval (``docs/retrieval.md``) and report figures.

``plots`` needs matplotlib (``pip install 'prosody-tts[plots]'``), imported only when a figure is made.
"""

from .plots import (
    log_figures_to_tensorboard,
    plot_loss_curves,
    plot_per_phoneme_recall,
    plot_similarity_matrix,
)
from .retrieval import (
    OccurrenceEmbeddings,
    RetrievalCandidates,
    RetrievalResult,
    chance_levels,
    compute_occurrence_embeddings,
    evaluate_retrieval,
    sample_candidates,
    score_candidates,
)

__all__ = [
    "OccurrenceEmbeddings",
    "RetrievalCandidates",
    "RetrievalResult",
    "chance_levels",
    "compute_occurrence_embeddings",
    "evaluate_retrieval",
    "log_figures_to_tensorboard",
    "plot_loss_curves",
    "plot_per_phoneme_recall",
    "plot_similarity_matrix",
    "sample_candidates",
    "score_candidates",
]
