"""Train and evaluate the curriculum variants and print the paper-style table.

    python recipes/curriculum_variants.py --corpus runs/corpus --work runs/variants          # tiny, CPU
    python recipes/curriculum_variants.py --corpus data/corpus --work runs/variants \\
        --model-size base --audio-preset default --stage1-steps 75000 --stage2-steps 20000 \\
        --stage3-steps 5000 --gpu --bf16                                                      # paper scale

Variants: stage 2 alone, 1+2, 1+2+3 and stage 1 alone (the control); see
``prosody_tts.trainers.curriculum``. The corpus is built (embedded, espeak-ng) when ``--corpus``
does not exist yet. The table goes to standard output and ``<work>/variants.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prosody_tts.trainers.curriculum import VARIANTS, CurriculumSchedule, run_curriculum, variants_table


def main() -> None:
    defaults = CurriculumSchedule()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="embedded-corpus directory (built if missing)")
    parser.add_argument("--work", type=Path, required=True, help="where the stage directories and results go")
    parser.add_argument("--speakers", type=int, default=8, help="when building the corpus")
    parser.add_argument("--utterances", type=int, default=300, help="per speaker, when building the corpus")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    for name in ("stage1_steps", "stage2_steps", "stage3_steps", "stage1_batch_size", "stage2_batch_size",
                 "stage3_batch_size", "max_per_phoneme", "num_candidates", "seed"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    for name in ("stage1_learning_rate", "stage2_learning_rate", "stage3_learning_rate"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    parser.add_argument("--model-size", default=defaults.model_size, choices=("tiny", "base"))
    parser.add_argument("--audio-preset", default=defaults.audio_preset, choices=("tiny", "small", "default"))
    parser.add_argument("--gpu", action="store_true", help="train on the GPU (default: CPU)")
    parser.add_argument("--bf16", action="store_true", help="bf16 mixed precision (GPU)")
    args = parser.parse_args()

    if not (args.corpus / "train.jsonl").is_file():
        from prosody_tts.data.sources.embedded import build_embedded_corpus

        build_embedded_corpus(args.corpus, utterances_per_speaker=args.utterances, speakers=args.speakers)
    fields = {k: getattr(args, k) for k in vars(defaults) if hasattr(args, k)}
    schedule = CurriculumSchedule(**{**fields, "use_cpu": not args.gpu, "bf16": args.bf16})
    results = run_curriculum(args.corpus, args.work, schedule, variants=tuple(args.variants))
    table = variants_table(results)
    (args.work / "variants.md").write_text(table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
