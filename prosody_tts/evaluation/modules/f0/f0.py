"""F0 RMSE (cents), F0 correlation and voicing decision error on DTW-aligned frames (librosa pYIN).

A local ``evaluate`` module shipped with prosody_tts: ``evaluate.load(prosody_tts.evaluation.metric_modules.metric_module_path("f0"))``.
The computation lives in ``prosody_tts.evaluation.metric_modules.F0Error``.
"""

from prosody_tts.evaluation.metric_modules import F0Error

__all__ = ["F0Error"]
