"""The latent-diffusion TTS head (DiTTo-TTS style): text → Mel-VAE latents by a DiT, no aligner.

Training (``forward`` with ``spectrogram``)::

    text keys ─ DualStreamModel (frozen or fine-tuned) ─► states (B, P, H_text), mask (B, P)
    spectrogram (B, T, M) ─ frozen Mel-VAE encoder (posterior mean) ─ (z − mean) / std ─► z (B, L, C)
    span mask: one span of 70–100 % of each item's frames to generate (all of it 10 % of the time);
      the rest is the prompt (given to the DiT, not scored)
    context = Linear(states); an item's text becomes the learned null token with p = cfg_drop_prob
    condition = Linear(masked mean of context) [+ Linear(speaker)]
    x_t, target = schedule(z, ε, t) ─ DiT(x_t, prompt, mask, t, context, condition) ─► prediction
      diffusion loss = mean (prediction − target)² over the frames to generate
    length predictor (on detached states): Σ_p exp(rate_p) ─ (log Σ − log L)² ─► length loss

Synthesis (:meth:`LatentDiffusionTTSModel.synthesize`)::

    L = round(length predictor · length_scale) (or given; with a prompt: its own rate, see there)
    x ~ N(0, I) / temperature ─ diffusers sampler, n_timesteps steps, classifier-free guidance
      v = v_null + guidance_scale · (v_text − v_null) ─► z (B, L, C) ─ · std + mean ─ VAE decoder ─► log-mels

The length predictor is DiTTo's "separate" model in a cheaper form: Grad-TTS' duration-predictor
convolutions give each phoneme a positive rate in latent frames, summed to the total; it reads
detached text states, so it trains beside the DiT without touching it or the encoder.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from ..configuration.latent_diffusion import LatentDiffusionTTSConfig
from ..processing.padding import length_mask
from .dit import DiffusionTransformer
from .dual_stream import DualStreamModel
from .grad_tts_dual_stream import DUAL_STREAM_INPUTS
from .grad_tts_encoder import ChannelLayerNorm, DurationPredictor
from .latent_schedules import LatentDiffusionSchedule
from .layers import ZeroInitLinear
from .mel_vae import MelVaeModel
from .outputs import LatentDiffusionSynthesisOutput, LatentDiffusionTTSOutput
from .tts_inputs import TTSInputsMixin

__all__ = ["LatentDiffusionTTSModel", "span_mask"]

#: floor of the predicted total length inside the log of the length loss (latent frames).
LENGTH_LOG_FLOOR = 1e-3


def span_mask(lengths: torch.Tensor, frames: int, share_min: float, share_max: float, full_prob: float) -> torch.Tensor:
    """(B, frames) bool: one span per item of ``share ~ U(share_min, share_max)`` of its ``lengths``
    frames (at least one), at a uniform offset; the whole item with probability ``full_prob``.
    Draws from the global RNG (so a resumed run draws the same masks).

    Example:
        >>> _ = torch.manual_seed(0)
        >>> m = span_mask(torch.tensor([10, 4]), 10, 0.7, 1.0, 0.0)
        >>> m.sum(1).tolist()[0] >= 7, bool(m[1, 4:].any())
        (True, False)
    """
    batch = lengths.shape[0]
    lengths = lengths.long()
    share = share_min + (share_max - share_min) * torch.rand(batch, device=lengths.device)
    span = torch.clamp((share * lengths).round().long(), min=1)
    span = torch.where(torch.rand(batch, device=lengths.device) < full_prob, lengths, torch.minimum(span, lengths))
    start = (torch.rand(batch, device=lengths.device) * (lengths - span + 1)).floor().long()
    positions = torch.arange(frames, device=lengths.device)[None, :]
    return (positions >= start[:, None]) & (positions < (start + span)[:, None])


class LatentDiffusionTTSModel(TTSInputsMixin, PreTrainedModel):
    """Text-to-spectrogram latent diffusion over our dual-stream encoder (see the module docstring).

    Text inputs are the processor's keys (``phoneme_input_ids``, ``phoneme_attention_mask``,
    ``phoneme_word_ids``, ``bpe_*``). ``forward`` with ``spectrogram`` returns the training losses;
    without it, it synthesises (what the text-to-waveform model and the pipeline call).

    Example:
        >>> from prosody_tts.configuration import DualStreamConfig
        >>> config = LatentDiffusionTTSConfig.tiny(text_config=DualStreamConfig.tiny())
        >>> model = LatentDiffusionTTSModel(config).eval()
        >>> out = model.synthesize(phoneme_input_ids=torch.tensor([[1, 20, 21, 2]]), n_timesteps=2,
        ...                        latent_lengths=torch.tensor([3]), generator=torch.Generator().manual_seed(0))
        >>> out.spectrogram.shape, out.spectrogram_lengths.tolist()
        (torch.Size([1, 24, 80]), [24])
    """

    config_class = LatentDiffusionTTSConfig
    base_model_prefix = "latent_diffusion"
    main_input_name = "phoneme_input_ids"
    #: the parts of the loss the trainer logs beside ``loss``
    loss_parts: tuple[str, ...] = ("diffusion_loss", "length_loss")
    #: the text-to-waveform defaults of this head (DiTTo: 25 steps; the noise is not tempered)
    synthesis_defaults: dict[str, Any] = {"n_timesteps": 25, "temperature": 1.0}

    def __init__(self, config: LatentDiffusionTTSConfig) -> None:
        super().__init__(config)
        text_config = config.text_config
        self.text_model = DualStreamModel(text_config)
        self.vae = MelVaeModel(config.vae_config)
        self.vae.requires_grad_(False)
        hidden = config.hidden_size
        self.context_projection = nn.Linear(text_config.hidden_size, hidden)
        self.null_context = nn.Embedding(1, hidden)
        self.pooled_projection = ZeroInitLinear(hidden, hidden)
        if config.num_speakers > 1:
            self.spk_emb = nn.Embedding(config.num_speakers, config.speaker_embedding_dim)
        if config.multi_speaker:
            self.speaker_projection = ZeroInitLinear(config.speaker_embedding_dim, hidden)
        self.takes_speaker = config.multi_speaker and text_config.external_speaker_dim == config.speaker_embedding_dim
        self.dit = DiffusionTransformer(
            config.latent_channels, hidden, config.num_layers, config.num_heads, config.intermediate_size, hidden,
            config.activation, config.dropout, config.attention_dropout, config.layer_norm_eps, config.rope_theta,
        )  # fmt: skip
        self.length_predictor = DurationPredictor(
            text_config.hidden_size, config.length_predictor_channels, config.length_predictor_kernel_size,
            config.length_predictor_dropout,
        )  # fmt: skip
        if config.freeze_text_encoder:
            self.text_model.requires_grad_(False)
        self.post_init()

    @property
    def schedule(self) -> LatentDiffusionSchedule:
        return LatentDiffusionSchedule.from_config(self.config)

    def _init_weights(self, module: nn.Module) -> None:
        """Normal(0, initializer_range) linear/embedding weights; zero-init layers stay zero; the
        encoder and the VAE keep their own ``_init_weights`` (v5 dispatches nested models)."""
        std = self.config.initializer_range
        if isinstance(module, ZeroInitLinear):
            init.zeros_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, (nn.Linear, nn.Conv1d)):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, ChannelLayerNorm):
            init.ones_(module.gamma)
            init.zeros_(module.beta)

    def train(self, mode: bool = True) -> LatentDiffusionTTSModel:
        super().train(mode)
        self.vae.eval()  # the Mel-VAE is trained apart and never drops out here
        if self.config.freeze_text_encoder:
            self.text_model.eval()
        return self

    @classmethod
    def from_parts(cls, encoder: Any, vae: Any, tiny: bool = False, **overrides: Any) -> LatentDiffusionTTSModel:
        """A new head over a trained dual-stream encoder (any curriculum stage directory or model)
        and a trained Mel-VAE (directory or model); the DiT and the length predictor are new."""
        from .loading import load_model

        loaded = load_model(encoder)
        text_model = getattr(loaded, "text_model", None) or getattr(loaded, "dual_stream", None) or loaded
        if not isinstance(text_model, DualStreamModel):
            raise TypeError(f"no dual-stream encoder in {type(loaded).__name__} (expected a curriculum stage)")
        vae = load_model(vae, MelVaeModel)
        config = LatentDiffusionTTSConfig.with_text_encoder(text_model.config, tiny=tiny, vae_config=vae.config, **overrides)
        model = cls(config)
        result = model.text_model.load_state_dict(text_model.state_dict(), strict=False)
        if result.unexpected_keys:
            raise ValueError(f"the encoder has weights the dual-stream model lacks: {result.unexpected_keys[:5]}")
        model.vae.load_state_dict(vae.state_dict())
        return model

    # ------------------------------------------------------------------ inputs
    def _encode_text(self, text: dict[str, Any], speaker: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, P, H_text) encoder states and the (B, P) bool mask of the processor's keys."""
        unknown = sorted(set(text) - set(DUAL_STREAM_INPUTS))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments: {unknown}")
        text = {key: value for key, value in text.items() if value is not None}
        ids = text.get("phoneme_input_ids")
        if ids is None:
            raise ValueError("no text: pass the processor's phoneme_input_ids (and the other phoneme_* / bpe_* keys)")
        mask = self._text_mask(ids, text.get("phoneme_attention_mask"), self.config.text_config.phoneme_vocab_size)[:, 0].bool()
        condition = {"speaker_embeds": speaker} if self.takes_speaker and speaker is not None else {}
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.freeze_text_encoder):
            states = self.text_model(**text, **condition, return_dict=True).last_hidden_state
        return states * mask[..., None], mask

    def _conditions(
        self, states: torch.Tensor, mask: torch.Tensor, speaker: torch.Tensor | None, null: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Context (B, P, H), its (B, P) mask and the (B, H) condition; rows where ``null`` (B,) bool
        is set get the learned null text (one token) instead of their text."""
        context = self.context_projection(states)
        null_token = self.null_context.weight[None].expand(states.shape[0], 1, -1)  # (B, 1, H)
        first = torch.zeros_like(mask)
        first[:, 0] = True
        context = torch.where(null[:, None, None], torch.nn.functional.pad(null_token, (0, 0, 0, context.shape[1] - 1)), context)
        mask = torch.where(null[:, None], first, mask)
        weights = mask[..., None].to(context.dtype)
        pooled = (context * weights).sum(1) / weights.sum(1)
        condition = self.pooled_projection(pooled)
        if speaker is not None:
            condition = condition + self.speaker_projection(speaker.to(condition.dtype))
        return context * weights, mask, condition

    def _normalise(self, z: torch.Tensor) -> torch.Tensor:
        mean, std = self._latent_stats(z)
        return (z - mean) / std

    def _denormalise(self, z: torch.Tensor) -> torch.Tensor:
        mean, std = self._latent_stats(z)
        return z * std + mean

    def _latent_stats(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        config = self.config
        mean = torch.tensor(config.latent_mean or [0.0] * config.latent_channels, device=z.device, dtype=z.dtype)
        std = torch.tensor(config.latent_std or [1.0] * config.latent_channels, device=z.device, dtype=z.dtype)
        return mean, std

    @torch.no_grad()
    def predict_text_lengths(
        self, speaker_ids: torch.Tensor | None = None, speaker_embeds: torch.Tensor | None = None, **text: torch.Tensor
    ) -> torch.Tensor:
        """(B,) latent frames the length predictor gives the processor's text keys (unrounded), no DiT run."""
        text.pop("phoneme_durations", None)
        ids = text.get("phoneme_input_ids")
        speaker = self._speaker(speaker_ids, speaker_embeds, ids.shape[0] if ids is not None else 0)
        states, mask = self._encode_text(text, speaker)
        return self.predict_lengths(states, mask)[0]

    def predict_lengths(self, states: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B,) predicted latent frames of the text, and the (B, P) per-phoneme rates (latent frames)."""
        weights = mask[:, None, :].to(states.dtype)
        log_rates = self.length_predictor(states.detach().transpose(1, 2), weights)  # (B, 1, P)
        rates = torch.exp(log_rates) * weights
        return rates.sum((1, 2)), rates[:, 0]

    # ------------------------------------------------------------------ training
    def forward(
        self,
        spectrogram: torch.Tensor | None = None,
        spectrogram_lengths: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> LatentDiffusionTTSOutput | LatentDiffusionSynthesisOutput | tuple:
        """The diffusion and length losses on (B, T, n_mels) right-padded log-mels ``spectrogram``.

        Without ``spectrogram``: :meth:`synthesize` with the remaining keyword arguments.
        ``phoneme_durations`` is accepted and ignored (this head needs no alignment).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        kwargs.pop("phoneme_durations", None)
        if spectrogram is None:
            output = self.synthesize(speaker_ids=speaker_ids, speaker_embeds=speaker_embeds, **kwargs)
            return output if return_dict else output.to_tuple()
        config = self.config
        batch = spectrogram.shape[0]
        speaker = self._speaker(speaker_ids, speaker_embeds, batch)
        states, text_mask = self._encode_text(kwargs, speaker)
        with torch.no_grad():
            z, lengths = self.vae.encode(spectrogram, spectrogram_lengths)
        z = self._normalise(z)
        frames = z.shape[1]
        latent_mask = length_mask(lengths, frames)
        generate = span_mask(lengths, frames, config.prompt_mask_min, config.prompt_mask_max, config.prompt_full_mask_prob)
        generate = generate & latent_mask
        prompt = z * (latent_mask & ~generate)[..., None].to(z.dtype)
        null = torch.rand(batch, device=z.device) < config.cfg_drop_prob
        context, context_mask, condition = self._conditions(states, text_mask, speaker, null)
        noise = torch.randn_like(z)
        noisy, target, time = self.schedule.training_inputs(z, noise, torch.rand(batch, device=z.device))
        prediction = self.dit(noisy, prompt, generate[..., None].to(z.dtype), latent_mask, time, context, context_mask, condition)
        weight = generate[..., None].to(z.dtype)
        diffusion_loss = torch.sum((prediction - target) ** 2 * weight) / (weight.sum() * config.latent_channels)
        predicted, _ = self.predict_lengths(states, text_mask)
        length_loss = torch.mean((torch.log(predicted.clamp_min(LENGTH_LOG_FLOOR)) - torch.log(lengths.to(predicted.dtype))) ** 2)
        output = LatentDiffusionTTSOutput(
            loss=diffusion_loss + config.length_loss_weight * length_loss,
            diffusion_loss=diffusion_loss,
            length_loss=length_loss,
            latent_lengths=lengths,
            predicted_lengths=predicted.detach(),
        )
        return output if return_dict else output.to_tuple()

    # ------------------------------------------------------------------ synthesis
    @torch.no_grad()
    def synthesize(
        self,
        n_timesteps: int = 25,
        temperature: float = 1.0,
        length_scale: float = 1.0,
        generator: torch.Generator | None = None,
        guidance_scale: float | None = None,
        latent_lengths: torch.Tensor | None = None,
        prompt_spectrogram: torch.Tensor | None = None,
        prompt_spectrogram_lengths: torch.Tensor | None = None,
        prompt_phonemes: torch.Tensor | None = None,
        speaker_ids: torch.Tensor | None = None,
        speaker_embeds: torch.Tensor | None = None,
        **text: torch.Tensor,
    ) -> LatentDiffusionSynthesisOutput:
        """Log-mels of the text, by ``n_timesteps`` steps of ``config.sampler`` with classifier-free guidance.

        Args:
            n_timesteps: sampler steps (DiTTo: 25). temperature: the starting noise is ε / temperature.
            length_scale: multiplies the predicted latent length (> 1 speaks slower).
            generator: seeds the starting noise. guidance_scale: default ``config.guidance_scale``.
            latent_lengths: (B,) latent frames to generate instead of the length predictor's.
            prompt_spectrogram / prompt_spectrogram_lengths: (B, T_p, n_mels) log-mels of a voice
                prompt whose transcript opens the text; the generated frames continue it and only
                they are returned. prompt_phonemes: (B,) how many leading phoneme tokens of the
                text are the prompt's transcript: the predicted length of the rest is scaled by the
                prompt's real / predicted length (its speaking rate).
            text: the processor's keys.
        """
        config = self.config
        if temperature <= 0 or length_scale <= 0:
            raise ValueError(f"temperature and length_scale must be > 0, got {temperature}, {length_scale}")
        guidance = config.guidance_scale if guidance_scale is None else float(guidance_scale)
        if guidance < 0:
            raise ValueError(f"guidance_scale must be >= 0, got {guidance}")
        text.pop("phoneme_durations", None)
        ids = text.get("phoneme_input_ids")
        batch = ids.shape[0] if ids is not None else 0
        speaker = self._speaker(speaker_ids, speaker_embeds, batch)
        states, text_mask = self._encode_text(text, speaker)
        device = states.device
        prompt_z, prompt_lengths = self._prompt_latents(prompt_spectrogram, prompt_spectrogram_lengths, batch, device)
        lengths = self._generated_lengths(states, text_mask, latent_lengths, prompt_lengths, prompt_phonemes, length_scale)
        total = prompt_lengths + lengths
        if int(total.max()) > config.max_latent_frames:
            raise ValueError(f"{int(total.max())} latent frames exceed max_latent_frames={config.max_latent_frames}")
        frames = int(total.max())
        mask = length_mask(total, frames)
        positions = torch.arange(frames, device=device)[None, :]
        generate = (positions >= prompt_lengths[:, None]) & mask
        prompt = torch.zeros(batch, frames, config.latent_channels, device=device, dtype=states.dtype)
        if prompt_z is not None:
            width = min(prompt_z.shape[1], frames)
            prompt[:, :width] = prompt_z[:, :width] * (~generate[:, :width] & mask[:, :width])[..., None].to(prompt.dtype)
        conditioned = self._conditions(states, text_mask, speaker, torch.zeros(batch, dtype=torch.bool, device=device))
        if guidance != 1.0:  # the null-text pass of classifier-free guidance
            unconditioned = self._conditions(states, text_mask, speaker, torch.ones(batch, dtype=torch.bool, device=device))
        x = torch.randn(prompt.shape, generator=generator, device=device, dtype=prompt.dtype) / temperature
        scheduler = self.schedule.sampler(config.sampler, n_timesteps, device=device)
        gate = generate[..., None].to(prompt.dtype)
        for timestep in scheduler.timesteps:
            time = torch.full((batch,), self.schedule.time_input(timestep), device=device, dtype=prompt.dtype)
            prediction = self.dit(x, prompt, gate, mask, time, *conditioned)
            if guidance != 1.0:
                null = self.dit(x, prompt, gate, mask, time, *unconditioned)
                prediction = null + guidance * (prediction - null)
            x = scheduler.step(prediction, timestep, x).prev_sample
        latents = torch.zeros(batch, int(lengths.max()), config.latent_channels, device=device, dtype=x.dtype)
        for b in range(batch):
            start, n = int(prompt_lengths[b]), int(lengths[b])
            latents[b, :n] = x[b, start : start + n]
        spectrogram = self.vae.decode(self._denormalise(latents), lengths)
        rate = config.vae_config.downsample_rate
        return LatentDiffusionSynthesisOutput(
            spectrogram=spectrogram, spectrogram_lengths=lengths * rate, latents=latents, latent_lengths=lengths
        )

    def _prompt_latents(
        self, spectrogram: torch.Tensor | None, lengths: torch.Tensor | None, batch: int, device: torch.device
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """The prompt's normalised latents (B, L_p, C) and (B,) lengths (zeros without a prompt)."""
        if spectrogram is None:
            if lengths is not None:
                raise ValueError("prompt_spectrogram_lengths without prompt_spectrogram")
            return None, torch.zeros(batch, dtype=torch.long, device=device)
        if spectrogram.shape[0] != batch:
            raise ValueError(f"prompt_spectrogram has {spectrogram.shape[0]} items for {batch} texts")
        z, prompt_lengths = self.vae.encode(spectrogram.to(device), lengths)
        return self._normalise(z), prompt_lengths

    def _generated_lengths(
        self,
        states: torch.Tensor,
        mask: torch.Tensor,
        given: torch.Tensor | None,
        prompt_lengths: torch.Tensor,
        prompt_phonemes: torch.Tensor | None,
        length_scale: float,
    ) -> torch.Tensor:
        """(B,) latent frames to generate: given, or predicted (· the prompt's own rate with a prompt)."""
        if given is not None:
            given = torch.as_tensor(given, device=states.device).long().reshape(-1)
            if given.shape[0] != states.shape[0] or bool((given < 1).any()):
                raise ValueError(f"latent_lengths must be {states.shape[0]} positive frame counts, got {given.tolist()}")
            return given
        _, rates = self.predict_lengths(states, mask)
        has_prompt = bool((prompt_lengths > 0).any())
        if not has_prompt:
            return torch.clamp((rates.sum(1) * length_scale).round().long(), min=1)
        if prompt_phonemes is None:
            raise ValueError("a voice prompt needs prompt_phonemes (leading tokens of the text that are its transcript) or latent_lengths")
        k = torch.as_tensor(prompt_phonemes, device=states.device).long().reshape(-1, 1)
        if k.shape[0] != states.shape[0] or bool((k < 1).any()) or bool((k >= mask.sum(1, keepdim=True)).any()):
            raise ValueError("prompt_phonemes must leave at least one token of the text to say after the prompt's transcript")
        in_prompt = torch.arange(rates.shape[1], device=rates.device)[None, :] < k
        predicted_prompt = (rates * in_prompt).sum(1).clamp_min(LENGTH_LOG_FLOOR)
        speed = prompt_lengths.to(rates.dtype) / predicted_prompt
        target = (rates * ~in_prompt).sum(1) * speed * length_scale
        return torch.clamp(target.round().long(), min=1)
