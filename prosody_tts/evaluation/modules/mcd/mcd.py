"""Mel-cepstral distortion (dB) with DTW on 13 mel cepstra.

A local ``evaluate`` module shipped with prosody_tts: ``evaluate.load(prosody_tts.evaluation.metric_modules.metric_module_path("mcd"))``.
The computation lives in ``prosody_tts.evaluation.metric_modules.MelCepstralDistortion``.
"""

from prosody_tts.evaluation.metric_modules import MelCepstralDistortion

__all__ = ["MelCepstralDistortion"]
