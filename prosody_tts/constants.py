"""Ids and file names shared across the package, defined once.

Every module that needs one of these imports it from here; nothing else defines them.
"""

from __future__ import annotations

#: Word id of a token outside any word: ``<s>``/``</s>``, ``#``, punctuation and padding.
NO_WORD: int = -1
#: Label value the MLM losses skip (the PyTorch / transformers convention).
IGNORE_INDEX: int = -100
#: Speaker id that selects the learned null speaker condition for that row.
NO_SPEAKER: int = -1

#: The Trainer's log (loss curves) saved beside a trained model.
TRAINER_STATE_FILE: str = "trainer_state.json"
#: Speaker name → speaker-table row, saved beside a model trained with speaker ids.
SPEAKER_MAP_FILE: str = "speaker_to_id.json"
#: What ``prosody-tts evaluate retrieval --out DIR`` writes.
REPORT_FILE: str = "report.md"
RESULT_FILE: str = "result.json"
#: Inside a ``prepare_corpus(cache_dir=...)`` folder: the Arrow rows and their description.
PREPARED_FILE: str = "prepared.arrow"
PREPARED_INFO: str = "prepared.json"
#: Per-rank stream position that ``StreamStateCallback`` writes into a checkpoint.
STATE_FILE_PATTERN: str = "stream_state_rank{rank}.json"
#: Per-rank occurrence-batch buffer (JSON + its arrays) that ``OccurrenceStreamStateCallback`` writes.
OCCURRENCE_STATE_PATTERN: str = "occurrence_stream_rank{rank}"
#: Sub-folder of a text-to-spectrogram model directory that holds its vocoder (HiFi-GAN, ...);
#: the text-to-speech pipeline and ``prosody-tts synthesize`` use it when present.
VOCODER_SUBFOLDER: str = "vocoder"
#: Sub-folder of a converted vocoder that holds generator + discriminators (``init_from`` of a
#: vocoder recipe: fine-tune a published vocoder with its own discriminators).
VOCODER_TRAINING_SUBFOLDER: str = "training"
