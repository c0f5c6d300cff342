"""Synthesis speed of the latent-diffusion head against Grad-TTS, side by side in one process, on CPU threads.

``python benchmarks/latent_rtf.py [--threads 2] [--seconds 4] [--grad-steps 10] [--latent-steps 25]``

Both heads run their whole ``synthesize`` (text → log-mels, no vocoder) over the same dual-stream
encoder size, for a fixed ``--seconds`` of speech (given durations for Grad-TTS, given latent
frames for the latent head, so untrained predictors do not decide the length). The latent head
runs with classifier-free guidance (two DiT passes per step, its default) and without. Sizes:
"tiny" (both heads' tiny presets over the tiny encoder) and "paper" (Grad-TTS' official decoder,
DiTTo's S DiT: 12 × 384, over the base encoder). Median of interleaved repeats; the ratio is
latent / Grad-TTS time of the same size.
"""

from __future__ import annotations

import argparse
from functools import partial

import torch
from timing import median_times

from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.configuration.grad_tts import GradTTSConfig
from prosody_tts.configuration.latent_diffusion import LatentDiffusionTTSConfig
from prosody_tts.modeling.grad_tts import GradTTSModel
from prosody_tts.modeling.latent_diffusion import LatentDiffusionTTSModel


def _heads(size: str) -> tuple[GradTTSModel, LatentDiffusionTTSModel]:
    text = DualStreamConfig.tiny() if size == "tiny" else DualStreamConfig()
    if size == "tiny":
        sizes = GradTTSConfig.tiny().to_diff_dict()
        head = {k: v for k, v in sizes.items() if k.startswith("decoder_") or k == "duration_predictor_channels"}
        grad = GradTTSModel(GradTTSConfig.with_text_encoder(text, **head))
        return grad.eval(), LatentDiffusionTTSModel(LatentDiffusionTTSConfig.tiny(text_config=text)).eval()
    return GradTTSModel(GradTTSConfig.with_text_encoder(text)).eval(), LatentDiffusionTTSModel(LatentDiffusionTTSConfig(text_config=text)).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--phonemes", type=int, default=48, help="text length (≈ 12 phonemes per second)")
    parser.add_argument("--grad-steps", type=int, default=10)
    parser.add_argument("--latent-steps", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=["tiny", "paper"], choices=["tiny", "paper"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for size in args.sizes:
        grad, latent = _heads(size)
        ids = torch.randint(5, 60, (1, args.phonemes))
        frames = round(args.seconds * 22050 / 256)
        durations = torch.full((1, args.phonemes), frames // args.phonemes)
        latent_frames = torch.tensor([latent.config.vae_config.latent_length(int(durations.sum()))])
        audio = float(durations.sum()) * 256 / 22050
        fns = [
            partial(grad.synthesize, phoneme_input_ids=ids, durations=durations, n_timesteps=args.grad_steps),
            partial(latent.synthesize, phoneme_input_ids=ids, latent_lengths=latent_frames, n_timesteps=args.latent_steps),
            partial(latent.synthesize, phoneme_input_ids=ids, latent_lengths=latent_frames, n_timesteps=args.latent_steps,
                    guidance_scale=1.0),
        ]
        times = median_times(fns, args.repeats)
        params = [grad.num_parameters() / 1e6, latent.num_parameters() / 1e6]
        rows.append((size, f"Grad-TTS ({params[0]:.1f} M), {args.grad_steps} steps", times[0], audio, 1.0))
        rows.append((size, f"latent ({params[1]:.1f} M), {args.latent_steps} steps, CFG", times[1], audio, times[1] / times[0]))
        rows.append((size, f"latent, {args.latent_steps} steps, no CFG", times[2], audio, times[2] / times[0]))
    print(f"{args.threads} threads, {args.seconds:.0f} s of speech, text → log-mels\n")
    print("| size | head | s | RTF | × Grad-TTS time |\n|---|---|---|---|---|")
    for size, name, seconds, audio, ratio in rows:
        print(f"| {size} | {name} | {seconds:.3f} | {seconds / audio:.3f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
