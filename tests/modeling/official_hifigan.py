"""A test-only re-implementation of the ORIGINAL HiFi-GAN code, as an independent reference.

What it is: the model and mel code of ``jik876/hifi-gan`` (MIT; Kong, Kim & Bae 2020), re-typed as
plain torch modules with the upstream class, attribute and parameter names and the upstream
registration order, so that ``Generator(h).state_dict()`` has exactly the key layout of the released
generator checkpoints (``generator_v1``, ``generator_v2``, ``generator_v3``, ``{'generator': ...}``)
and ``MultiPeriodDiscriminator`` / ``MultiScaleDiscriminator`` that of ``do_*`` (``'mpd'``, ``'msd'``).
It imports nothing from ``prosody_tts`` (librosa only lazily, inside ``mel_spectrogram``).

Where each part comes from (upstream file → here):

* ``env.py``: ``AttrDict`` (a ``dict`` whose keys are also attributes; ``h = AttrDict(json.load(f))``).
* ``utils.py``: ``init_weights`` (``normal_(0, 0.01)`` on every ``*Conv*`` module's ``weight``),
  ``get_padding`` (``int((k * d - d) / 2)``).
* ``models.py``: ``LRELU_SLOPE``, ``ResBlock1``, ``ResBlock2``, ``Generator`` (with
  ``remove_weight_norm``), ``DiscriminatorP``, ``MultiPeriodDiscriminator``, ``DiscriminatorS``,
  ``MultiScaleDiscriminator``, ``feature_loss``, ``discriminator_loss``, ``generator_loss``.
* ``meldataset.py``: ``dynamic_range_compression_torch``, ``spectral_normalize_torch``,
  ``mel_spectrogram`` (with its module-level ``mel_basis`` / ``hann_window`` caches).
* ``config_v1.json``, ``config_v2.json``, ``config_v3.json``: ``tests/modeling/data/hifigan_config_v*.json``.

Versions read: ``models.py`` as vendored unchanged in ``huawei-noah/Speech-Backbones``
``Grad-TTS/hifi-gan/models.py`` (commit 808c1fc; only the ``utils`` import is renamed ``xutils``)
and identical, modulo the ``utils`` import name, to the stored ``jik876/hifi-gan`` ``models.py`` at
commit 33beb7d (another stored version, 0ddee25, adds a ``valid_lengths``/``apply_mask`` masking path
that is not in the released code and is not reproduced). ``meldataset.py``: ``jik876/hifi-gan``
commit 3484fe6 and ``Speech-Backbones`` commit be94ed5 (the latter already spells the librosa call
with keywords and wraps ``torch.stft`` in ``view_as_real(..., return_complex=True)``, as here).
``train.py``: ``jik876/hifi-gan`` commit 3484fe6. Configs: ``jik876/hifi-gan`` master as carried
verbatim by unmodified forks (the index holds no ``config_v*.json`` under ``jik876/hifi-gan`` itself).

Deliberate, non-numerical differences from upstream, all marked ``# ref:``:

* ``weight_norm`` is ``torch.nn.utils.weight_norm`` (the old hook API: ``weight_g`` / ``weight_v``
  keys) called with its FutureWarning silenced; ``spectral_norm`` is ``torch.nn.utils.spectral_norm``
  (``weight_orig`` / ``weight_u`` / ``weight_v``) unchanged.
* ``mel_spectrogram``: ``librosa.filters.mel`` is imported inside the function and called with
  keywords (librosa >= 0.10 rejects the positional call); ``torch.stft(..., return_complex=True)`` is
  wrapped in ``torch.view_as_real`` (modern torch requires ``return_complex``), so ``spec.pow(2).sum(-1)``
  is the same arithmetic on the same ``(..., 2)`` real/imag layout as upstream.
* The window is ``torch.hann_window(win_size)`` (upstream master and Speech-Backbones); the stored
  ``jik876`` commit 3484fe6 hard-codes ``torch.hann_window(1024)``, the same for all three configs
  (``win_size`` 1024).
* ``Generator.remove_weight_norm`` keeps upstream's ``print('Removing weight norm...')``.

Upstream quirks kept on purpose (they are the numerics of the released models):

* ``Generator.conv_pre`` takes 80 input channels, hard-coded (not ``h.num_mels``).
* ``init_weights`` runs after ``weight_norm``: it draws ``normal_`` into the *derived* ``weight``
  tensor, which the weight-norm pre-hook recomputes from ``weight_g``/``weight_v`` at the next
  forward; so it consumes RNG but leaves the effective weights at PyTorch's default init.
* ``mel_spectrogram`` tests ``fmax not in mel_basis`` while the keys are ``f"{fmax}_{device}"``: the
  cache never hits, the filterbank and window are rebuilt on every call (same numbers).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import AvgPool1d, Conv1d, Conv2d, ConvTranspose1d
from torch.nn.utils import remove_weight_norm, spectral_norm
from torch.nn.utils import weight_norm as _torch_weight_norm

LRELU_SLOPE = 0.1


# --------------------------------------------------------------------------------------------- env.py
class AttrDict(dict):
    """``env.py``: ``h.upsample_rates`` and ``h['upsample_rates']`` are the same entry."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.__dict__ = self


# ------------------------------------------------------------------------------------------- utils.py
def init_weights(m, mean=0.0, std=0.01):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        m.weight.data.normal_(mean, std)


def get_padding(kernel_size, dilation=1):
    return int((kernel_size * dilation - dilation) / 2)


def weight_norm(module, name="weight", dim=0):
    # ref: torch.nn.utils.weight_norm (old hook API, weight_g/weight_v) without its FutureWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return _torch_weight_norm(module, name=name, dim=dim)


# ------------------------------------------------------------------------------------------ models.py
class ResBlock1(torch.nn.Module):
    def __init__(self, h, channels, kernel_size=3, dilation=(1, 3, 5)):
        super().__init__()
        self.h = h
        self.convs1 = nn.ModuleList([
            weight_norm(Conv1d(channels, channels, kernel_size, 1, dilation=dilation[0],
                               padding=get_padding(kernel_size, dilation[0]))),
            weight_norm(Conv1d(channels, channels, kernel_size, 1, dilation=dilation[1],
                               padding=get_padding(kernel_size, dilation[1]))),
            weight_norm(Conv1d(channels, channels, kernel_size, 1, dilation=dilation[2],
                               padding=get_padding(kernel_size, dilation[2]))),
        ])  # fmt: skip
        self.convs1.apply(init_weights)

        self.convs2 = nn.ModuleList([
            weight_norm(Conv1d(channels, channels, kernel_size, 1, dilation=1,
                               padding=get_padding(kernel_size, 1))),
            weight_norm(Conv1d(channels, channels, kernel_size, 1, dilation=1,
                               padding=get_padding(kernel_size, 1))),
            weight_norm(Conv1d(channels, channels, kernel_size, 1, dilation=1,
                               padding=get_padding(kernel_size, 1))),
        ])  # fmt: skip
        self.convs2.apply(init_weights)

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2, strict=False):
            xt = F.leaky_relu(x, LRELU_SLOPE)
            xt = c1(xt)
            xt = F.leaky_relu(xt, LRELU_SLOPE)
            xt = c2(xt)
            x = xt + x
        return x

    def remove_weight_norm(self):
        for layer in self.convs1:
            remove_weight_norm(layer)
        for layer in self.convs2:
            remove_weight_norm(layer)


class ResBlock2(torch.nn.Module):
    def __init__(self, h, channels, kernel_size=3, dilation=(1, 3)):
        super().__init__()
        self.h = h
        self.convs = nn.ModuleList([
            weight_norm(Conv1d(channels, channels, kernel_size, 1, dilation=dilation[0],
                               padding=get_padding(kernel_size, dilation[0]))),
            weight_norm(Conv1d(channels, channels, kernel_size, 1, dilation=dilation[1],
                               padding=get_padding(kernel_size, dilation[1]))),
        ])  # fmt: skip
        self.convs.apply(init_weights)

    def forward(self, x):
        for c in self.convs:
            xt = F.leaky_relu(x, LRELU_SLOPE)
            xt = c(xt)
            x = xt + x
        return x

    def remove_weight_norm(self):
        for layer in self.convs:
            remove_weight_norm(layer)


class Generator(torch.nn.Module):
    def __init__(self, h):
        super().__init__()
        self.h = h
        self.num_kernels = len(h.resblock_kernel_sizes)
        self.num_upsamples = len(h.upsample_rates)
        self.conv_pre = weight_norm(Conv1d(80, h.upsample_initial_channel, 7, 1, padding=3))
        resblock = ResBlock1 if h.resblock == "1" else ResBlock2

        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(h.upsample_rates, h.upsample_kernel_sizes, strict=False)):
            self.ups.append(weight_norm(
                ConvTranspose1d(h.upsample_initial_channel // (2**i), h.upsample_initial_channel // (2 ** (i + 1)),
                                k, u, padding=(k - u) // 2)))  # fmt: skip

        self.resblocks = nn.ModuleList()
        for i in range(len(self.ups)):
            ch = h.upsample_initial_channel // (2 ** (i + 1))
            for _j, (k, d) in enumerate(
                zip(h.resblock_kernel_sizes, h.resblock_dilation_sizes, strict=False)
            ):
                self.resblocks.append(resblock(h, ch, k, d))

        self.conv_post = weight_norm(Conv1d(ch, 1, 7, 1, padding=3))
        self.ups.apply(init_weights)
        self.conv_post.apply(init_weights)

    def forward(self, x):
        x = self.conv_pre(x)
        for i in range(self.num_upsamples):
            x = F.leaky_relu(x, LRELU_SLOPE)
            x = self.ups[i](x)
            xs = None
            for j in range(self.num_kernels):
                if xs is None:
                    xs = self.resblocks[i * self.num_kernels + j](x)
                else:
                    xs += self.resblocks[i * self.num_kernels + j](x)
            x = xs / self.num_kernels
        x = F.leaky_relu(x)  # upstream: the default slope 0.01 here, not LRELU_SLOPE
        x = self.conv_post(x)
        x = torch.tanh(x)

        return x

    def remove_weight_norm(self):
        print("Removing weight norm...")
        for layer in self.ups:
            remove_weight_norm(layer)
        for layer in self.resblocks:
            layer.remove_weight_norm()
        remove_weight_norm(self.conv_pre)
        remove_weight_norm(self.conv_post)


class DiscriminatorP(torch.nn.Module):
    def __init__(self, period, kernel_size=5, stride=3, use_spectral_norm=False):
        super().__init__()
        self.period = period
        norm_f = weight_norm if use_spectral_norm == False else spectral_norm  # noqa: E712 (upstream spelling)
        self.convs = nn.ModuleList([
            norm_f(Conv2d(1, 32, (kernel_size, 1), (stride, 1), padding=(get_padding(5, 1), 0))),
            norm_f(Conv2d(32, 128, (kernel_size, 1), (stride, 1), padding=(get_padding(5, 1), 0))),
            norm_f(Conv2d(128, 512, (kernel_size, 1), (stride, 1), padding=(get_padding(5, 1), 0))),
            norm_f(Conv2d(512, 1024, (kernel_size, 1), (stride, 1), padding=(get_padding(5, 1), 0))),
            norm_f(Conv2d(1024, 1024, (kernel_size, 1), 1, padding=(2, 0))),
        ])  # fmt: skip
        self.conv_post = norm_f(Conv2d(1024, 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x):
        fmap = []

        # 1d to 2d
        b, c, t = x.shape
        if t % self.period != 0:  # pad first
            n_pad = self.period - (t % self.period)
            x = F.pad(x, (0, n_pad), "reflect")
            t = t + n_pad
        x = x.view(b, c, t // self.period, self.period)

        for layer in self.convs:
            x = layer(x)
            x = F.leaky_relu(x, LRELU_SLOPE)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        x = torch.flatten(x, 1, -1)

        return x, fmap


class MultiPeriodDiscriminator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.discriminators = nn.ModuleList([
            DiscriminatorP(2),
            DiscriminatorP(3),
            DiscriminatorP(5),
            DiscriminatorP(7),
            DiscriminatorP(11),
        ])  # fmt: skip

    def forward(self, y, y_hat):
        y_d_rs = []
        y_d_gs = []
        fmap_rs = []
        fmap_gs = []
        for _i, d in enumerate(self.discriminators):
            y_d_r, fmap_r = d(y)
            y_d_g, fmap_g = d(y_hat)
            y_d_rs.append(y_d_r)
            fmap_rs.append(fmap_r)
            y_d_gs.append(y_d_g)
            fmap_gs.append(fmap_g)

        return y_d_rs, y_d_gs, fmap_rs, fmap_gs


class DiscriminatorS(torch.nn.Module):
    def __init__(self, use_spectral_norm=False):
        super().__init__()
        norm_f = weight_norm if use_spectral_norm == False else spectral_norm  # noqa: E712 (upstream spelling)
        self.convs = nn.ModuleList([
            norm_f(Conv1d(1, 128, 15, 1, padding=7)),
            norm_f(Conv1d(128, 128, 41, 2, groups=4, padding=20)),
            norm_f(Conv1d(128, 256, 41, 2, groups=16, padding=20)),
            norm_f(Conv1d(256, 512, 41, 4, groups=16, padding=20)),
            norm_f(Conv1d(512, 1024, 41, 4, groups=16, padding=20)),
            norm_f(Conv1d(1024, 1024, 41, 1, groups=16, padding=20)),
            norm_f(Conv1d(1024, 1024, 5, 1, padding=2)),
        ])  # fmt: skip
        self.conv_post = norm_f(Conv1d(1024, 1, 3, 1, padding=1))

    def forward(self, x):
        fmap = []
        for layer in self.convs:
            x = layer(x)
            x = F.leaky_relu(x, LRELU_SLOPE)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        x = torch.flatten(x, 1, -1)

        return x, fmap


class MultiScaleDiscriminator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.discriminators = nn.ModuleList([
            DiscriminatorS(use_spectral_norm=True),
            DiscriminatorS(),
            DiscriminatorS(),
        ])  # fmt: skip
        self.meanpools = nn.ModuleList([
            AvgPool1d(4, 2, padding=2),
            AvgPool1d(4, 2, padding=2),
        ])  # fmt: skip

    def forward(self, y, y_hat):
        y_d_rs = []
        y_d_gs = []
        fmap_rs = []
        fmap_gs = []
        for i, d in enumerate(self.discriminators):
            if i != 0:
                y = self.meanpools[i - 1](y)
                y_hat = self.meanpools[i - 1](y_hat)
            y_d_r, fmap_r = d(y)
            y_d_g, fmap_g = d(y_hat)
            y_d_rs.append(y_d_r)
            fmap_rs.append(fmap_r)
            y_d_gs.append(y_d_g)
            fmap_gs.append(fmap_g)

        return y_d_rs, y_d_gs, fmap_rs, fmap_gs


def feature_loss(fmap_r, fmap_g):
    loss = 0
    for dr, dg in zip(fmap_r, fmap_g, strict=False):
        for rl, gl in zip(dr, dg, strict=False):
            loss += torch.mean(torch.abs(rl - gl))

    return loss * 2


def discriminator_loss(disc_real_outputs, disc_generated_outputs):
    loss = 0
    r_losses = []
    g_losses = []
    for dr, dg in zip(disc_real_outputs, disc_generated_outputs, strict=False):
        r_loss = torch.mean((1 - dr) ** 2)
        g_loss = torch.mean(dg**2)
        loss += r_loss + g_loss
        r_losses.append(r_loss.item())
        g_losses.append(g_loss.item())

    return loss, r_losses, g_losses


def generator_loss(disc_outputs):
    loss = 0
    gen_losses = []
    for dg in disc_outputs:
        term = torch.mean((1 - dg) ** 2)
        gen_losses.append(term)
        loss += term

    return loss, gen_losses


# -------------------------------------------------------------------------------------- meldataset.py
def dynamic_range_compression_torch(x, C=1, clip_val=1e-5):
    return torch.log(torch.clamp(x, min=clip_val) * C)


def dynamic_range_decompression_torch(x, C=1):
    return torch.exp(x) / C


def spectral_normalize_torch(magnitudes):
    output = dynamic_range_compression_torch(magnitudes)
    return output


def spectral_de_normalize_torch(magnitudes):
    output = dynamic_range_decompression_torch(magnitudes)
    return output


mel_basis = {}
hann_window = {}


def mel_spectrogram(y, n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax, center=False):
    from librosa.filters import mel as librosa_mel_fn  # ref: lazy import (librosa only needed here)

    if torch.min(y) < -1.0:
        print("min value is ", torch.min(y))
    if torch.max(y) > 1.0:
        print("max value is ", torch.max(y))

    global mel_basis, hann_window
    if fmax not in mel_basis:  # upstream: the keys are strings, so this is always true
        # ref: keywords (librosa >= 0.10 has no positional call)
        mel = librosa_mel_fn(sr=sampling_rate, n_fft=n_fft, n_mels=num_mels, fmin=fmin, fmax=fmax)
        mel_basis[str(fmax) + "_" + str(y.device)] = torch.from_numpy(mel).float().to(y.device)
        hann_window[str(y.device)] = torch.hann_window(win_size).to(y.device)

    y = torch.nn.functional.pad(
        y.unsqueeze(1), (int((n_fft - hop_size) / 2), int((n_fft - hop_size) / 2)), mode="reflect"
    )
    y = y.squeeze(1)

    # ref: view_as_real(stft(..., return_complex=True)) is the old real (..., 2) stft output
    spec = torch.view_as_real(
        torch.stft(y, n_fft, hop_length=hop_size, win_length=win_size, window=hann_window[str(y.device)],
                   center=center, pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
    )  # fmt: skip

    spec = torch.sqrt(spec.pow(2).sum(-1) + (1e-9))

    spec = torch.matmul(mel_basis[str(fmax) + "_" + str(y.device)], spec)
    spec = spectral_normalize_torch(spec)

    return spec
