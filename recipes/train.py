"""Run one curriculum stage from a recipe file: ``python recipes/train.py recipes/tiny/stage1.json``.

GPUs: ``accelerate launch recipes/train.py recipes/paper/stage2.json``;
CPU, 2 processes: ``torchrun --nproc_per_node 2 recipes/train.py recipes/tiny/stage2.json``.
Any field can be given as ``--flag value`` instead of a file (see ``--help``).
This is ``prosody-tts train`` as a script file, which the launchers need.
"""

import sys

from prosody_tts.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["train", *sys.argv[1:]]))
