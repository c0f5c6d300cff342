"""WER and CER (jiwer) after prosody_tts's Russian text normalisation.

A local ``evaluate`` module shipped with prosody_tts: ``evaluate.load(prosody_tts.evaluation.metric_modules.metric_module_path("wer"))``.
The computation lives in ``prosody_tts.evaluation.metric_modules.WordErrorRate``.
"""

from prosody_tts.evaluation.metric_modules import WordErrorRate

__all__ = ["WordErrorRate"]
