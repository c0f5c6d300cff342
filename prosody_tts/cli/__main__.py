"""``python -m prosody_tts.cli`` = ``prosody-tts``."""

from . import main

raise SystemExit(main())
