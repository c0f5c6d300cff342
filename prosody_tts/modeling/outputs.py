"""The output dataclasses of every model family (``ModelOutput``: ``out.field``, ``out["field"]``,
``out[0]`` = the first non-None field, ``out.to_tuple()``).

::

    DualStreamModel          -> DualStreamModelOutput      (B, P, H) per phoneme, + stream outputs
    DualStreamForMaskedLM    -> DualStreamMaskedLMOutput   loss, per-stream losses and logits
    EcapaTdnnModel           -> EcapaTdnnOutput            (B, E) utterances, (N, E) segments
    ProsodyContrastiveModel  -> ProsodyContrastiveOutput   loss, (N, N) logits, (N, D) embeddings
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers.utils import ModelOutput

__all__ = [
    "DualStreamMaskedLMOutput",
    "DualStreamModelOutput",
    "EcapaTdnnOutput",
    "GradTTSOutput",
    "GradTTSSynthesisOutput",
    "LatentDiffusionSynthesisOutput",
    "LatentDiffusionTTSOutput",
    "MelVaeOutput",
    "PhonemeAlignerOutput",
    "PhonemeRecognizerOutput",
    "ProsodyContrastiveOutput",
    "TextToWaveformOutput",
    "VocoderOutput",
]


@dataclass
class DualStreamModelOutput(ModelOutput):
    """Output of :class:`DualStreamModel`.

    Args:
        last_hidden_state: (B, P, H) one vector per phoneme position after fusion and the final norm
            (zero at padded positions) — what an acoustic model consumes.
        bpe_last_hidden_state: (B, T, H) BPE stream output (zero at padding); ``None`` without BPE inputs.
        phoneme_stream_last_hidden_state: (B, P, H) phoneme stream output before fusion (zero at padding).
        hidden_states: phoneme path states: embeddings, then each phoneme layer, then each fusion
            layer (``1 + phoneme_layers + fusion_layers`` tensors (B, P, H)), when asked.
        attentions: attention weights (B, N, P, P) of each phoneme then each fusion layer, when asked.
        bpe_hidden_states / bpe_attentions: the same for the BPE stream (``1 + bpe_layers`` / ``bpe_layers``).
    """

    last_hidden_state: torch.FloatTensor | None = None
    bpe_last_hidden_state: torch.FloatTensor | None = None
    phoneme_stream_last_hidden_state: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    bpe_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    bpe_attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class DualStreamMaskedLMOutput(ModelOutput):
    """Output of :class:`DualStreamForMaskedLM`.

    Args:
        loss: ``phoneme_mlm_weight * phoneme_loss + bpe_mlm_weight * bpe_loss`` over the losses whose
            labels were given.
        phoneme_loss / bpe_loss: mean cross-entropy over the labelled (not -100) positions of each stream.
        phoneme_logits: (B, P, phoneme_vocab_size); bpe_logits: (B, T, bpe_vocab_size).
        hidden_states / attentions / bpe_hidden_states / bpe_attentions: as in :class:`DualStreamModelOutput`
            (with ``mlm_before_fusion`` the fusion layers do not run and add no entries).
    """

    loss: torch.FloatTensor | None = None
    phoneme_loss: torch.FloatTensor | None = None
    bpe_loss: torch.FloatTensor | None = None
    phoneme_logits: torch.FloatTensor | None = None
    bpe_logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    bpe_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    bpe_attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class EcapaTdnnOutput(ModelOutput):
    r"""Outputs of :class:`EcapaTdnnModel`.

    Args:
        embeddings: ``(B, embedding_dim)`` utterance embeddings.
        frame_features: ``(B, T, channels[-1])`` aggregated frame-level features before pooling
            (exactly zero at padded frames).
        segment_embeddings: ``(N, embedding_dim)``, one per row of ``segment_spans`` (only when
            spans are given).
    """

    embeddings: torch.FloatTensor | None = None
    frame_features: torch.FloatTensor | None = None
    segment_embeddings: torch.FloatTensor | None = None


@dataclass
class ProsodyContrastiveOutput(ModelOutput):
    """Output of :class:`ProsodyContrastiveModel`.

    Args:
        loss: () SigLIP loss (this rank's share under ``distributed_siglip_loss``), when ``return_loss``.
        logits_per_text: (N, N) ``exp(t') * cos(text_i, audio_j) + b``, rows = text occurrences
            (this rank's pairs only, also under torch.distributed).
        logits_per_audio: (N, N) its transpose.
        text_embeds: (N, D) L2-normalised projected text states at ``occurrence_positions``.
        audio_embeds: (N, D) L2-normalised projected ECAPA segment embeddings.
        text_model_output: the :class:`DualStreamModelOutput`.
        audio_model_output: the :class:`EcapaTdnnOutput` (``embeddings`` (B, E) are the utterances).
    """

    loss: torch.FloatTensor | None = None
    logits_per_text: torch.FloatTensor | None = None
    logits_per_audio: torch.FloatTensor | None = None
    text_embeds: torch.FloatTensor | None = None
    audio_embeds: torch.FloatTensor | None = None
    text_model_output: DualStreamModelOutput | None = None
    audio_model_output: EcapaTdnnOutput | None = None

    def to_tuple(self) -> tuple[Any, ...]:
        """Tuple of the non-None fields, nested model outputs as tuples too (like ``SiglipOutput``)."""
        return tuple(
            self[k].to_tuple() if k in ("text_model_output", "audio_model_output") else self[k]
            for k in self.keys()
        )


@dataclass
class VocoderOutput(ModelOutput):
    """Output of a vocoder (``waveform`` first, as the text-to-speech pipeline reads ``out[0]``).

    Args:
        waveform: (B, samples) float audio at ``config.sampling_rate``; right-padded with zeros.
        waveform_lengths: (B,) real samples of each item (``frames * hop_length``).
    """

    waveform: torch.FloatTensor | None = None
    waveform_lengths: torch.LongTensor | None = None


@dataclass
class GradTTSOutput(ModelOutput):
    """Training output of :class:`~prosody_tts.modeling.grad_tts.GradTTSModel`.

    Args:
        loss: () duration + prior + diffusion loss (weight 1 each, as in the paper).
        duration_loss / prior_loss / diffusion_loss: () the three parts, each logged.
        durations: (B, N) frames per token of the monotonic alignment (MAS) of the whole utterance.
    """

    loss: torch.FloatTensor | None = None
    duration_loss: torch.FloatTensor | None = None
    prior_loss: torch.FloatTensor | None = None
    diffusion_loss: torch.FloatTensor | None = None
    durations: torch.LongTensor | None = None


@dataclass
class GradTTSSynthesisOutput(ModelOutput):
    """What :meth:`~prosody_tts.modeling.grad_tts.GradTTSModel.synthesize` returns.

    Args:
        spectrogram: (B, T, n_mels) log-mels of the decoder, right-padded.
        spectrogram_lengths: (B,) real frames of each item.
        durations: (B, N) predicted frames per token (``ceil(w) · length_scale``).
        encoder_spectrogram: (B, T, n_mels) the aligned encoder means μ (the prior's mean).
    """

    spectrogram: torch.FloatTensor | None = None
    spectrogram_lengths: torch.LongTensor | None = None
    durations: torch.FloatTensor | None = None
    encoder_spectrogram: torch.FloatTensor | None = None


@dataclass
class TextToWaveformOutput(ModelOutput):
    """Output of :class:`~prosody_tts.modeling.text_to_waveform.TextToWaveformModel` (``waveform``
    first: the text-to-speech pipeline takes ``out[0]``).

    Args:
        waveform: (B, samples) audio at ``config.sampling_rate``, right-padded with zeros.
        waveform_lengths: (B,) real samples of each item.
        spectrogram: (B, T, n_mels) the TTS head's log-mels; ``spectrogram_lengths`` (B,) frames.
        durations: (B, N) frames per token.
    """

    waveform: torch.FloatTensor | None = None
    waveform_lengths: torch.LongTensor | None = None
    spectrogram: torch.FloatTensor | None = None
    spectrogram_lengths: torch.LongTensor | None = None
    durations: torch.FloatTensor | None = None


@dataclass
class PhonemeRecognizerOutput(ModelOutput):
    """Output of :class:`~prosody_tts.modeling.phoneme_recognizer.PhonemeRecognizerModel`.

    Args:
        loss: the CTC loss (when ``labels`` are given).
        logits: (B, T', 1 + P) per-output-frame scores (T' = ⌈T / subsampling⌉), id 0 = the CTC blank.
        lengths: (B,) real output frames of each item.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    lengths: torch.LongTensor | None = None


@dataclass
class PhonemeAlignerOutput(ModelOutput):
    """Output of :class:`~prosody_tts.modeling.phoneme_aligner.PhonemeAlignerModel`.

    Args:
        loss: forward-sum loss + binarization_loss_weight × binarization loss (training).
        forward_sum_loss / binarization_loss: the two terms.
        log_attention: (B, T, N') log soft attention over the aligned tokens per frame (prior included).
        durations: (B, N) frames per input token from monotonic alignment search (0 for unaligned
            tokens and padding); each row sums to the item's real frame count.
        alignment_scores: (B,) geometric-mean posterior of the hard path, in (0, 1].
        frame_lengths: (B,) real frames of each item.
    """

    loss: torch.FloatTensor | None = None
    forward_sum_loss: torch.FloatTensor | None = None
    binarization_loss: torch.FloatTensor | None = None
    log_attention: torch.FloatTensor | None = None
    durations: torch.LongTensor | None = None
    alignment_scores: torch.FloatTensor | None = None
    frame_lengths: torch.LongTensor | None = None


@dataclass
class MelVaeOutput(ModelOutput):
    """Output of :class:`~prosody_tts.modeling.mel_vae.MelVaeModel`.

    Args:
        loss: normalised-mel L1 + the bottleneck's term (``kl_weight`` · KL, or the RVQ losses).
        reconstruction_loss: () L1 of the reconstruction in log-mel units over real frames.
        kl_loss: () KL(q ‖ N(0, I)) per latent element (0 for RVQ).
        quantizer_loss: () RVQ codebook + commitment loss (None for KL).
        reconstruction: (B, T, n_mels) decoded log-mels of a posterior sample (the quantised latent).
        latents: (B, L, C) that sample; ``latent_lengths`` (B,) real latent frames.
    """

    loss: torch.FloatTensor | None = None
    reconstruction_loss: torch.FloatTensor | None = None
    kl_loss: torch.FloatTensor | None = None
    quantizer_loss: torch.FloatTensor | None = None
    reconstruction: torch.FloatTensor | None = None
    latents: torch.FloatTensor | None = None
    latent_lengths: torch.LongTensor | None = None


@dataclass
class LatentDiffusionTTSOutput(ModelOutput):
    """Training output of :class:`~prosody_tts.modeling.latent_diffusion.LatentDiffusionTTSModel`.

    Args:
        loss: diffusion loss + ``length_loss_weight`` · length loss.
        diffusion_loss: () MSE of the predicted v (or flow velocity) on the masked (generated) latent frames.
        length_loss: () squared error of the log total length (the length predictor, on detached text states).
        latent_lengths: (B,) latent frames of each target; ``predicted_lengths`` (B,) the predictor's.
    """

    loss: torch.FloatTensor | None = None
    diffusion_loss: torch.FloatTensor | None = None
    length_loss: torch.FloatTensor | None = None
    latent_lengths: torch.LongTensor | None = None
    predicted_lengths: torch.FloatTensor | None = None


@dataclass
class LatentDiffusionSynthesisOutput(ModelOutput):
    """What :meth:`~prosody_tts.modeling.latent_diffusion.LatentDiffusionTTSModel.synthesize` returns.

    Args:
        spectrogram: (B, T, n_mels) decoded log-mels of the generated part, right-padded.
        spectrogram_lengths: (B,) real frames of each item (latent frames · the VAE's rate).
        latents: (B, L, C) the generated latents (normalised, as the DiT sees them).
        latent_lengths: (B,) generated latent frames (the length predictor's, or given).
        durations: None (the head has no per-token durations; kept for the text-to-waveform output).
    """

    spectrogram: torch.FloatTensor | None = None
    spectrogram_lengths: torch.LongTensor | None = None
    latents: torch.FloatTensor | None = None
    latent_lengths: torch.LongTensor | None = None
    durations: torch.FloatTensor | None = None
