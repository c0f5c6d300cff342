"""Grad-TTS' score-based diffusion in mel space, with terminal distribution N(μ, I).

Forward SDE ``dX = ½ (μ − X) β(t) dt + √β(t) dW`` with ``β(t) = β₀ + (β₁ − β₀) t``; with
``B(t) = ∫₀ᵗ β = β₀ t + ½ (β₁ − β₀) t²``, the marginal of ``X_t`` given ``X_0`` is::

    X_t ~ N( X_0 e^{−B/2} + μ (1 − e^{−B/2}),  (1 − e^{−B}) I )

* training (:meth:`ScoreDiffusion.loss`): ``t ~ U(offset, 1 − offset)``, ``X_t = mean + σ z``;
  loss ``Σ (σ · score(X_t) + z)² / (Σ mask · n_mels)`` — the score-matching loss weighted by σ;
* sampling (:meth:`ScoreDiffusion.reverse`): ``n_timesteps`` Euler steps from ``t = 1`` to 0 at
  the midpoints ``t_i = 1 − (i + ½) h``: the probability-flow ODE
  ``X ← X − ½ (μ − X − score) β(t) h`` (default), or the reverse SDE
  ``X ← X − [(½ (μ − X) − score) β(t) h + √(β(t) h) ε]`` (``stochastic=True``).

The update formulas are the official code's, so a converted checkpoint reproduces its samples
from the same starting point.
"""

from __future__ import annotations

import torch
from torch import nn

from .unet import GradLogPEstimator2d

__all__ = ["ScoreDiffusion", "beta_integral", "beta_schedule"]


def beta_schedule(t: torch.Tensor, beta_min: float, beta_max: float) -> torch.Tensor:
    """β(t) = β₀ + (β₁ − β₀) t."""
    return beta_min + (beta_max - beta_min) * t


def beta_integral(t: torch.Tensor, beta_min: float, beta_max: float) -> torch.Tensor:
    """B(t) = ∫₀ᵗ β(s) ds = β₀ t + ½ (β₁ − β₀) t²."""
    return beta_min * t + 0.5 * (beta_max - beta_min) * t**2


class ScoreDiffusion(nn.Module):
    """The diffusion process around a :class:`~prosody_tts.modeling.unet.GradLogPEstimator2d`.

    Args:
        n_feats: mel bins. dim / dim_mults / groups / pe_scale / attention_*: of the estimator.
        n_spks / spk_emb_dim: speaker conditioning of the estimator.
        beta_min / beta_max: the noise schedule.
    """

    def __init__(
        self,
        n_feats: int,
        dim: int,
        dim_mults: tuple[int, ...] = (1, 2, 4),
        groups: int = 8,
        n_spks: int = 1,
        spk_emb_dim: int = 64,
        beta_min: float = 0.05,
        beta_max: float = 20.0,
        pe_scale: float = 1000.0,
        attention_heads: int = 4,
        attention_head_dim: int = 32,
    ) -> None:
        super().__init__()
        self.n_feats, self.beta_min, self.beta_max = n_feats, beta_min, beta_max
        self.estimator = GradLogPEstimator2d(
            dim, dim_mults, groups, n_spks, spk_emb_dim, n_feats, pe_scale, attention_heads, attention_head_dim
        )

    def forward_diffusion(
        self, x0: torch.Tensor, mask: torch.Tensor, mu: torch.Tensor, t: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """X_t of X_0 (B, M, T) at times ``t`` (B,) with the given standard ``noise``."""
        cumulative = beta_integral(t[:, None, None], self.beta_min, self.beta_max)
        mean = x0 * torch.exp(-0.5 * cumulative) + mu * (1.0 - torch.exp(-0.5 * cumulative))
        return (mean + noise * torch.sqrt(1.0 - torch.exp(-cumulative))) * mask

    def loss(
        self,
        x0: torch.Tensor,
        mask: torch.Tensor,
        mu: torch.Tensor,
        spk: torch.Tensor | None = None,
        offset: float = 1e-5,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The σ-weighted denoising score-matching loss at one random time per item."""
        t = torch.rand(x0.shape[0], generator=generator, device=x0.device, dtype=x0.dtype)
        t = torch.clamp(t, offset, 1.0 - offset)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype) * mask
        xt = self.forward_diffusion(x0, mask, mu, t, noise)
        sigma = torch.sqrt(1.0 - torch.exp(-beta_integral(t[:, None, None], self.beta_min, self.beta_max)))
        score = self.estimator(xt, mask, mu, t, spk) * sigma
        return torch.sum((score + noise) ** 2) / (torch.sum(mask) * self.n_feats)

    @torch.no_grad()
    def reverse(
        self,
        z: torch.Tensor,
        mask: torch.Tensor,
        mu: torch.Tensor,
        n_timesteps: int,
        stochastic: bool = False,
        spk: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """X_0 from the starting point ``z`` (B, M, T) by ``n_timesteps`` Euler steps (module docstring)."""
        h = 1.0 / n_timesteps
        xt = z * mask
        for i in range(n_timesteps):
            t = (1.0 - (i + 0.5) * h) * torch.ones(z.shape[0], dtype=z.dtype, device=z.device)
            beta = beta_schedule(t[:, None, None], self.beta_min, self.beta_max)
            score = self.estimator(xt, mask, mu, t, spk)
            if stochastic:
                noise = torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device)
                step = (0.5 * (mu - xt) - score) * beta * h + noise * torch.sqrt(beta * h)
            else:
                step = 0.5 * (mu - xt - score) * beta * h
            xt = (xt - step) * mask
        return xt
