"""Phoneme error rate: the offline intelligibility proxy, never WER.

A local ``evaluate`` module shipped with prosody_tts: ``evaluate.load(prosody_tts.evaluation.metric_modules.metric_module_path("per"))``.
The computation lives in ``prosody_tts.evaluation.metric_modules.PhonemeErrorRate``.
"""

from prosody_tts.evaluation.metric_modules import PhonemeErrorRate

__all__ = ["PhonemeErrorRate"]
