"""Training targets and ``diffusers`` samplers of the latent-diffusion head: v-prediction or flow matching.

::

    v-prediction (DiTTo):  ᾱ_i = sigmoid(−2 log tan(π t_i / 2) + 2 log shift), t_i = (i + 1) / N
        x_t = √ᾱ z + √(1 − ᾱ) ε      target v = √ᾱ ε − √(1 − ᾱ) z       time input i / N
        samplers: diffusers DDIM / DPM-Solver++ over the same ᾱ (``trained_betas``, "trailing" steps)
    flow matching:         σ ~ U(0, 1)
        x_σ = (1 − σ) z + σ ε         target u = ε − z                   time input σ
        sampler: diffusers FlowMatchEulerDiscreteScheduler (``shift``)

One schedule object is the single source of the noise levels for training and synthesis: the
samplers are built from the same ᾱ table the training noise is drawn from. ``shift`` < 1 moves
the cosine schedule toward noise (log-SNR + 2 log shift, "simple diffusion"); the last level is
clamped to ᾱ = 2⁻²⁴ (diffusers' choice for zero terminal SNR) so DPM-Solver's log-SNR stays finite.
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["LatentDiffusionSchedule", "shifted_cosine_alphas_cumprod"]

#: ᾱ of the last training time (zero terminal SNR, kept finite; diffusers uses the same value).
TERMINAL_ALPHA_CUMPROD = 2.0**-24


def shifted_cosine_alphas_cumprod(num_timesteps: int, shift: float) -> torch.Tensor:
    """(N,) float64 ᾱ of the cosine schedule with its SNR multiplied by ``shift²``.

    Example:
        >>> alphas = shifted_cosine_alphas_cumprod(1000, 1.0)
        >>> round(float(alphas[499]), 3), bool((alphas[1:] < alphas[:-1]).all())  # cos²(π/4) at t = 0.5
        (0.5, True)
    """
    t = torch.arange(1, num_timesteps + 1, dtype=torch.float64) / num_timesteps
    log_snr = -2.0 * torch.log(torch.tan(math.pi * t / 2).clamp_min(1e-12)) + 2.0 * math.log(shift)
    return torch.sigmoid(log_snr).clamp_min(TERMINAL_ALPHA_CUMPROD)


class LatentDiffusionSchedule:
    """Noise levels, training targets and samplers of one config (see the module docstring).

    Args:
        objective: ``"v_prediction"`` or ``"flow_matching"``.
        num_train_timesteps: N. schedule_shift: the cosine shift. flow_shift: the Euler sampler's shift.

    Example:
        >>> schedule = LatentDiffusionSchedule("v_prediction", 1000, 0.3, 1.0)
        >>> z = torch.randn(2, 5, 3)
        >>> x_t, target, time = schedule.training_inputs(z, torch.randn(2, 5, 3), torch.tensor([0.0, 0.999]))
        >>> x_t.shape, [round(t, 3) for t in time.tolist()]  # time input = index / N
        (torch.Size([2, 5, 3]), [0.0, 0.999])
    """

    def __init__(self, objective: str, num_train_timesteps: int, schedule_shift: float, flow_shift: float) -> None:
        self.objective = objective
        self.num_train_timesteps = num_train_timesteps
        self.schedule_shift = schedule_shift
        self.flow_shift = flow_shift
        self.alphas_cumprod = shifted_cosine_alphas_cumprod(num_train_timesteps, schedule_shift)

    @classmethod
    def from_config(cls, config: Any) -> LatentDiffusionSchedule:
        return cls(config.objective, config.num_train_timesteps, config.schedule_shift, config.flow_shift)

    def training_inputs(
        self, z: torch.Tensor, noise: torch.Tensor, u: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Noisy latents, the regression target and the (B,) time input of the DiT, for (B, L, C)
        latents ``z``, noise of the same shape and (B,) uniform draws ``u`` in [0, 1)."""
        if self.objective == "flow_matching":
            sigma = u.to(z.dtype)[:, None, None]
            return (1 - sigma) * z + sigma * noise, noise - z, u.to(z.dtype)
        index = (u * self.num_train_timesteps).long().clamp(0, self.num_train_timesteps - 1)
        alpha_bar = self.alphas_cumprod.to(z.device)[index].to(z.dtype)[:, None, None]
        a, s = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
        return a * z + s * noise, a * noise - s * z, index.to(z.dtype) / self.num_train_timesteps

    def time_input(self, timestep: torch.Tensor | float) -> float:
        """The DiT's time input for a sampler's timestep (an index, or σ · N for flow matching)."""
        return float(timestep) / self.num_train_timesteps

    def sampler(self, name: str, num_inference_steps: int, device: torch.device | str | None = None) -> Any:
        """A ``diffusers`` scheduler over this schedule, its timesteps set for ``num_inference_steps``."""
        from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, FlowMatchEulerDiscreteScheduler

        if num_inference_steps < 1:
            raise ValueError(f"n_timesteps must be >= 1, got {num_inference_steps}")
        if self.objective == "flow_matching":
            if name != "euler":
                raise ValueError(f"flow matching samples with 'euler', not {name!r}")
            scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=self.num_train_timesteps, shift=self.flow_shift)
        else:
            alphas = self.alphas_cumprod
            betas = (1 - alphas / torch.cat([alphas.new_ones(1), alphas[:-1]])).tolist()
            common = dict(num_train_timesteps=self.num_train_timesteps, trained_betas=betas,
                          prediction_type="v_prediction", timestep_spacing="trailing")  # fmt: skip
            if name == "ddim":
                scheduler = DDIMScheduler(**common, clip_sample=False, set_alpha_to_one=True)
            elif name == "dpm_solver":
                scheduler = DPMSolverMultistepScheduler(**common, algorithm_type="dpmsolver++", final_sigmas_type="zero")
            else:
                raise ValueError(f"v-prediction samples with 'ddim' or 'dpm_solver', not {name!r}")
        scheduler.set_timesteps(num_inference_steps, device=device)
        return scheduler
