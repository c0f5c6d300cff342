"""``python -m prosody_tts.cli`` = ``prosody-tts``."""

from prosody_tts.cli import main

raise SystemExit(main())
