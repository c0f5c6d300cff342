"""The latent-diffusion head at DiTTo's S size on one GPU: training steps/s, peak memory, MFU (bf16 vs fp32).

    python benchmarks/gpu_latent.py --out result.json [--batch 16] [--seconds 8] [--steps 20]

Synthetic data of realistic shape (no corpus needed): ``batch`` utterances of ``seconds`` of
log-mels with ≈ 12 phonemes per second, the base dual-stream encoder (frozen, as the paper
recipe), the S DiT (12 × 384) over the default Mel-VAE (frozen). One training step = forward +
backward + AdamW, timed with CUDA synchronisation after warm-up; FLOPs counted once with
``torch.utils.flop_counter.FlopCounterMode``; MFU against the card's dense bf16 peak
(``benchmarks/gpu_stage2.py``'s table).
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from gpu_stage2 import peak_for

from prosody_tts.configuration.dual_stream import DualStreamConfig
from prosody_tts.configuration.latent_diffusion import LatentDiffusionTTSConfig
from prosody_tts.modeling.latent_diffusion import LatentDiffusionTTSModel


def _batch(batch: int, seconds: float, device: str) -> dict[str, torch.Tensor]:
    frames = round(seconds * 22050 / 256)
    phonemes = round(seconds * 12)
    generator = torch.Generator().manual_seed(0)
    return {
        "phoneme_input_ids": torch.randint(5, 60, (batch, phonemes), generator=generator).to(device),
        "spectrogram": (torch.randn(batch, frames, 80, generator=generator) - 5).to(device),
        "spectrogram_lengths": torch.full((batch,), frames).to(device),
    }


def _measure(model: LatentDiffusionTTSModel, inputs: dict, bf16: bool, steps: int) -> dict[str, float]:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    return {"steps_per_second": 1 / seconds, "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30,
            "flops_per_step": flops, "achieved_tflops": flops / seconds / 1e12}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_latent.py needs a CUDA GPU")
    torch.manual_seed(0)
    name = torch.cuda.get_device_name()
    config = LatentDiffusionTTSConfig(text_config=DualStreamConfig(), freeze_text_encoder=True)
    model = LatentDiffusionTTSModel(config).cuda().train()
    inputs = _batch(args.batch, args.seconds, "cuda")
    result = {"device": name, "parameters_m": model.num_parameters() / 1e6,
              "dit_parameters_m": sum(p.numel() for p in model.dit.parameters()) / 1e6, "batch": args.batch,
              "seconds_per_item": args.seconds}  # fmt: skip
    peak = peak_for(name)
    for label, bf16 in (("bf16", True), ("fp32", False)):
        measured = _measure(model, inputs, bf16, args.steps)
        if peak:
            measured["mfu"] = measured["achieved_tflops"] * 1e12 / peak
        result[label] = measured
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
