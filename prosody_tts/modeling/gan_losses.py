"""HiFi-GAN's losses: least-squares adversarial terms and feature matching (original ``models.py``).

With ``D_k`` the k-th sub-discriminator's patch scores, ``x`` real and ``G(s)`` generated audio::

    L_D   = Σ_k  mean((1 - D_k(x))²) + mean(D_k(G(s))²)
    L_adv = Σ_k  mean((1 - D_k(G(s)))²)
    L_fm  = Σ_k Σ_l mean |f_kl(x) - f_kl(G(s))|           (feature maps of every layer l)

The generator minimises ``L_adv + w_fm · L_fm + w_mel · L1(mel(x), mel(G(s)))``
(:class:`~prosody_tts.modeling.hifigan_training.HifiGanTrainingModel`; weights 2 and 45).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["discriminator_loss", "feature_matching_loss", "generator_adversarial_loss"]


def discriminator_loss(real_scores: Sequence[torch.Tensor], fake_scores: Sequence[torch.Tensor]) -> torch.Tensor:
    """``L_D``: real patches pushed to 1, generated ones to 0 (summed over sub-discriminators)."""
    if len(real_scores) != len(fake_scores) or not real_scores:
        raise ValueError(f"need as many real as generated score tensors, got {len(real_scores)} and {len(fake_scores)}")
    return sum(((1 - r) ** 2).mean() + (g**2).mean() for r, g in zip(real_scores, fake_scores, strict=True))


def generator_adversarial_loss(fake_scores: Sequence[torch.Tensor]) -> torch.Tensor:
    """``L_adv``: generated patches pushed to 1."""
    if not fake_scores:
        raise ValueError("no score tensors")
    return sum(((1 - g) ** 2).mean() for g in fake_scores)


def feature_matching_loss(
    real_maps: Sequence[Sequence[torch.Tensor]], fake_maps: Sequence[Sequence[torch.Tensor]]
) -> torch.Tensor:
    """``L_fm`` (unweighted): mean absolute difference of every feature map, summed."""
    if len(real_maps) != len(fake_maps) or not real_maps:
        raise ValueError("need the same sub-discriminators' feature maps for real and generated audio")
    return sum(
        (r.detach() - g).abs().mean()
        for real, fake in zip(real_maps, fake_maps, strict=True)
        for r, g in zip(real, fake, strict=True)
    )
