"""Building blocks shared by the models: positions, self/cross-attention, (gated) feed-forward, AdaLN-Zero blocks, word fusion.

Every layer takes plain sizes (not a config) so other model families can reuse it; the models pass
their config's numbers in. Masks are boolean and ``True`` marks a real token. Shapes use
B = batch, T = sequence length, H = hidden size, C = condition size, N = heads, D = head size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers.activations import ACT2FN
from transformers.modeling_layers import GradientCheckpointingLayer

__all__ = [
    "AdaLNZeroBlock",
    "AdaLNZeroModulation",
    "CrossAttention",
    "FeedForward",
    "GatedFeedForward",
    "MaskedLMHead",
    "RotaryEmbedding",
    "SelfAttention",
    "SinusoidalPositions",
    "TransformerBlock",
    "WordFusion",
    "ZeroInitLinear",
    "apply_rotary",
    "pool_words_to_phonemes",
]


class RotaryEmbedding(nn.Module):
    """Rotary position angles (RoFormer): ``cos``/``sin`` tables that rotate queries and keys.

    Nothing is stored: the tables are computed per call from ``base`` (cheap, and nothing can be
    lost when transformers builds the model on the meta device and loads a checkpoint).

    Example:
        >>> rope = RotaryEmbedding(head_dim=8, base=10000.0)
        >>> cos, sin = rope(5, device=torch.device("cpu"), dtype=torch.float32)
        >>> cos.shape, sin.shape
        (torch.Size([5, 8]), torch.Size([5, 8]))
        >>> bool(cos[0].eq(1).all())  # position 0 is not rotated
        True
    """

    def __init__(self, head_dim: int, base: float) -> None:
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"rotary head_dim must be even, got {head_dim}")
        self.head_dim = head_dim
        self.base = base

    def forward(
        self, seq_len: int, device: torch.device, dtype: torch.dtype
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(cos, sin)``, each (seq_len, head_dim), computed in float32 then cast to ``dtype``."""
        exponents = torch.arange(0, self.head_dim, 2, device=device, dtype=torch.float32) / self.head_dim
        inv_freq = self.base**-exponents  # (D/2,)
        positions = torch.arange(seq_len, device=device, dtype=torch.float32)
        angles = torch.outer(positions, inv_freq)  # (T, D/2)
        angles = torch.cat((angles, angles), dim=-1)  # (T, D): the two halves share a frequency
        return angles.cos().to(dtype), angles.sin().to(dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` (B, N, T, D) by the angles of :class:`RotaryEmbedding` (``cos``/``sin`` (T, D))."""
    return x * cos + _rotate_half(x) * sin


class SinusoidalPositions(nn.Module):
    """Fixed sinusoidal position table (Vaswani et al.), added to the token embeddings.

    The first half of the channels holds ``sin``, the second half ``cos``. Computed per call, no buffer.

    Example:
        >>> table = SinusoidalPositions(hidden_size=6, base=10000.0)(4, device=torch.device("cpu"), dtype=torch.float32)
        >>> table.shape
        torch.Size([4, 6])
        >>> table[0].tolist()  # position 0: sin = 0, cos = 1
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, hidden_size: int, base: float) -> None:
        super().__init__()
        if hidden_size % 2:
            raise ValueError(f"sinusoidal hidden_size must be even, got {hidden_size}")
        self.hidden_size = hidden_size
        self.base = base

    def forward(self, seq_len: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """Return the (seq_len, hidden_size) table."""
        half = self.hidden_size // 2
        exponents = torch.arange(half, device=device, dtype=torch.float32) / half
        inv_freq = self.base**-exponents  # (H/2,)
        angles = torch.outer(torch.arange(seq_len, device=device, dtype=torch.float32), inv_freq)  # (T, H/2)
        return torch.cat((angles.sin(), angles.cos()), dim=-1).to(dtype)


class SelfAttention(nn.Module):
    """Multi-head self-attention through ``F.scaled_dot_product_attention`` with a boolean padding mask.

    SDPA cannot return attention weights, so with ``output_attentions=True`` the same attention is
    computed explicitly (softmax of masked scores) and the weights (B, N, T, T) are returned too.

    Example:
        >>> attention = SelfAttention(hidden_size=8, num_heads=2, dropout=0.0)
        >>> x = torch.randn(1, 3, 8)
        >>> mask = torch.tensor([[[[True, True, False]]]])  # (B, 1, 1, T): the last token is padding
        >>> out, weights = attention(x, mask, output_attentions=True)
        >>> out.shape, weights.shape
        (torch.Size([1, 3, 8]), torch.Size([1, 2, 3, 3]))
        >>> float(weights.detach()[..., 2].abs().max())  # nobody attends to padding
        0.0
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_heads ({num_heads})")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.dropout = dropout
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, hidden_size)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        # (B, T, H) -> (B, N, T, D)
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend over ``hidden_states`` (B, T, H); ``attention_mask`` (B, 1, 1, T) bool; rotary ``(cos, sin)``."""
        query = self._split_heads(self.query(hidden_states))
        key = self._split_heads(self.key(hidden_states))
        value = self._split_heads(self.value(hidden_states))
        if position_embeddings is not None:
            cos, sin = position_embeddings
            query, key = apply_rotary(query, cos, sin), apply_rotary(key, cos, sin)
        return self._attend(query, key, value, attention_mask, output_attentions)

    def _attend(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_mask: torch.Tensor | None,
        output_attentions: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, N, T, D) queries over (B, N, S, D) keys/values → (B, T, H) projected context [+ weights]."""
        dropout = self.dropout if self.training else 0.0

        weights = None
        if output_attentions:
            scores = query @ key.transpose(-1, -2) / math.sqrt(self.head_dim)  # (B, N, T, T)
            if attention_mask is not None:
                scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
            weights = scores.softmax(dim=-1)
            if attention_mask is not None:  # exact zeros on padded keys
                weights = weights.masked_fill(~attention_mask, 0.0)
            context = F.dropout(weights, p=dropout, training=self.training) @ value
        else:
            context = F.scaled_dot_product_attention(
                query, key, value, attn_mask=attention_mask, dropout_p=dropout
            )
        batch, _, length, _ = context.shape
        context = context.transpose(1, 2).reshape(batch, length, -1)  # (B, N, T, D) -> (B, T, H)
        return self.output(context), weights


class FeedForward(nn.Module):
    """Position-wise feed-forward: Linear → activation → Linear.

    Example:
        >>> ffn = FeedForward(hidden_size=8, intermediate_size=32, activation="gelu")
        >>> ffn(torch.randn(2, 5, 8)).shape
        torch.Size([2, 5, 8])
    """

    def __init__(self, hidden_size: int, intermediate_size: int, activation: str) -> None:
        super().__init__()
        self.up = nn.Linear(hidden_size, intermediate_size)
        self.activation = ACT2FN[activation]
        self.down = nn.Linear(intermediate_size, hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """(B, T, H) → (B, T, H)."""
        return self.down(self.activation(self.up(hidden_states)))


class CrossAttention(SelfAttention):
    """Multi-head attention of queries (B, T, H) over another sequence (B, S, H_ctx) (no positions).

    The keys and values are projections of ``context``; ``context_mask`` (B, 1, 1, S) bool marks its
    real positions. Same SDPA / explicit-weights paths as :class:`SelfAttention`.

    Example:
        >>> attention = CrossAttention(hidden_size=8, num_heads=2, dropout=0.0, context_size=6)
        >>> out, weights = attention(torch.randn(1, 4, 8), torch.randn(1, 3, 6),
        ...                          torch.tensor([[[[True, False, True]]]]), output_attentions=True)
        >>> out.shape, float(weights.detach()[..., 1].abs().max())
        (torch.Size([1, 4, 8]), 0.0)
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float, context_size: int | None = None) -> None:
        super().__init__(hidden_size, num_heads, dropout)
        context_size = context_size or hidden_size
        self.key = nn.Linear(context_size, hidden_size)
        self.value = nn.Linear(context_size, hidden_size)

    def forward(  # type: ignore[override]
        self,
        hidden_states: torch.Tensor,
        context: torch.Tensor,
        context_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, T, H) queries, (B, S, H_ctx) context, (B, 1, 1, S) bool mask → (B, T, H) [+ (B, N, T, S)]."""
        query = self._split_heads(self.query(hidden_states))
        key = self._split_heads(self.key(context))
        value = self._split_heads(self.value(context))
        return self._attend(query, key, value, context_mask, output_attentions)


class GatedFeedForward(nn.Module):
    """Gated feed-forward (GLU family; ``activation="gelu"`` is GeGLU): ``down(act(gate(x)) · up(x))``.

    Example:
        >>> ffn = GatedFeedForward(hidden_size=8, intermediate_size=16, activation="gelu")
        >>> ffn(torch.randn(2, 5, 8)).shape
        torch.Size([2, 5, 8])
    """

    def __init__(self, hidden_size: int, intermediate_size: int, activation: str) -> None:
        super().__init__()
        self.gate = nn.Linear(hidden_size, intermediate_size)
        self.up = nn.Linear(hidden_size, intermediate_size)
        self.activation = ACT2FN[activation]
        self.down = nn.Linear(intermediate_size, hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """(B, T, H) → (B, T, H)."""
        return self.down(self.activation(self.gate(hidden_states)) * self.up(hidden_states))


class ZeroInitLinear(nn.Linear):
    """A Linear that starts at zero (weight and bias) and that the models' ``_init_weights`` zeroes again.

    A class of its own because transformers v5 initialises custom models per module that owns
    parameters: the zero-init must be recognisable on the Linear itself, not on its parent.

    Example:
        >>> layer = ZeroInitLinear(3, 2)
        >>> layer(torch.randn(4, 3)).abs().sum().item()
        0.0
    """

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)


class AdaLNZeroModulation(nn.Module):
    """DiT's adaptive-LayerNorm-Zero modulation: condition (B, C) → SiLU → Linear → 6 vectors (B, 1, H).

    Returns ``(shift_attn, scale_attn, gate_attn, shift_ffn, scale_ffn, gate_ffn)`` (``num_chunks``
    vectors; a final layer takes 2: shift and scale). The Linear is
    a :class:`ZeroInitLinear`, so every gate is
    0 and a block that uses it starts as the identity: the condition then enters gradually.

    Example:
        >>> modulation = AdaLNZeroModulation(condition_size=4, hidden_size=8)
        >>> parts = modulation(torch.randn(2, 4))
        >>> len(parts), parts[0].shape
        (6, torch.Size([2, 1, 8]))
        >>> all(bool(p.eq(0).all()) for p in parts)  # zero at init
        True
    """

    def __init__(self, condition_size: int, hidden_size: int, num_chunks: int = 6) -> None:
        super().__init__()
        self.num_chunks = num_chunks
        self.activation = nn.SiLU()
        self.linear = ZeroInitLinear(condition_size, self.num_chunks * hidden_size)

    def forward(self, condition: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, C) → six (B, 1, H) tensors."""
        modulation = self.linear(self.activation(condition)).unsqueeze(1)  # (B, 1, 6H)
        return modulation.chunk(self.num_chunks, dim=-1)


class AdaLNZeroBlock(GradientCheckpointingLayer):
    """Pre-norm transformer block whose norms are modulated by a condition (DiT's AdaLN-Zero).

    ``x = x + gate_a * attn(norm(x) * (1 + scale_a) + shift_a)`` then the same for the FFN; the
    norms have no affine parameters of their own. With the zero-initialised modulation the block is
    the identity at init, whatever the condition.

    Example:
        >>> block = AdaLNZeroBlock(8, 2, 16, condition_size=4, activation="gelu", dropout=0.0,
        ...                        attention_dropout=0.0, layer_norm_eps=1e-6)
        >>> x = torch.randn(2, 5, 8)
        >>> out, _ = block(x, torch.randn(2, 4))
        >>> torch.equal(out, x)  # identity at init
        True
    """

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        condition_size: int,
        activation: str,
        dropout: float,
        attention_dropout: float,
        layer_norm_eps: float,
    ) -> None:
        super().__init__()
        self.modulation = AdaLNZeroModulation(condition_size, hidden_size)
        self.attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps, elementwise_affine=False)
        self.attention = SelfAttention(hidden_size, num_heads, attention_dropout)
        self.ffn_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps, elementwise_affine=False)
        self.ffn = FeedForward(hidden_size, intermediate_size, activation)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        hidden_states: torch.Tensor,
        condition: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``hidden_states`` (B, T, H), ``condition`` (B, C) → (B, T, H) and optional attention weights."""
        shift_a, scale_a, gate_a, shift_f, scale_f, gate_f = self.modulation(condition)
        normed = self.attention_norm(hidden_states) * (1 + scale_a) + shift_a
        attended, weights = self.attention(normed, attention_mask, position_embeddings, output_attentions)
        hidden_states = hidden_states + gate_a * self.dropout(attended)
        normed = self.ffn_norm(hidden_states) * (1 + scale_f) + shift_f
        hidden_states = hidden_states + gate_f * self.dropout(self.ffn(normed))
        return hidden_states, weights


class TransformerBlock(GradientCheckpointingLayer):
    """Plain pre-norm transformer block (no condition): ``x + attn(norm(x))`` then ``x + ffn(norm(x))``.

    Example:
        >>> block = TransformerBlock(8, 2, 16, activation="gelu", dropout=0.0, attention_dropout=0.0,
        ...                          layer_norm_eps=1e-6)
        >>> out, weights = block(torch.randn(2, 5, 8), output_attentions=True)
        >>> out.shape, weights.shape
        (torch.Size([2, 5, 8]), torch.Size([2, 2, 5, 5]))
    """

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        activation: str,
        dropout: float,
        attention_dropout: float,
        layer_norm_eps: float,
    ) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.attention = SelfAttention(hidden_size, num_heads, attention_dropout)
        self.ffn_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.ffn = FeedForward(hidden_size, intermediate_size, activation)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, T, H) → (B, T, H) and optional attention weights (B, N, T, T)."""
        attended, weights = self.attention(
            self.attention_norm(hidden_states), attention_mask, position_embeddings, output_attentions
        )
        hidden_states = hidden_states + self.dropout(attended)
        hidden_states = hidden_states + self.dropout(self.ffn(self.ffn_norm(hidden_states)))
        return hidden_states, weights


def pool_words_to_phonemes(
    bpe_states: torch.Tensor, bpe_word_ids: torch.Tensor, phoneme_word_ids: torch.Tensor
) -> torch.Tensor:
    """Mean-pool BPE states per word and copy each word's mean to that word's phonemes.

    ``bpe_states`` (B, T, H), ``bpe_word_ids`` (B, T), ``phoneme_word_ids`` (B, P); word id ``-1``
    (specials, punctuation, padding) is ignored on the BPE side and gives a zero vector on the
    phoneme side, as does a word that has no BPE token. Returns (B, P, H).

    Example:
        >>> states = torch.tensor([[[1.0], [3.0], [5.0]]])            # 3 BPE tokens, H = 1
        >>> pooled = pool_words_to_phonemes(states, torch.tensor([[0, 0, 1]]), torch.tensor([[-1, 0, 1, 1]]))
        >>> pooled[..., 0].tolist()
        [[0.0, 2.0, 5.0, 5.0]]
    """
    batch, _, hidden = bpe_states.shape
    num_words = int(max(bpe_word_ids.max().item(), phoneme_word_ids.max().item(), -1)) + 1
    trash = num_words  # one extra bin collects the -1 positions and is then dropped / zero
    bpe_index = torch.where(bpe_word_ids >= 0, bpe_word_ids, trash)  # (B, T)
    sums = bpe_states.new_zeros(batch, num_words + 1, hidden)
    sums.scatter_add_(1, bpe_index.unsqueeze(-1).expand(-1, -1, hidden), bpe_states)  # (B, W+1, H)
    counts = bpe_states.new_zeros(batch, num_words + 1)
    counts.scatter_add_(1, bpe_index, torch.ones_like(bpe_index, dtype=bpe_states.dtype))  # (B, W+1)
    means = sums / counts.clamp_min(1).unsqueeze(-1)
    means[:, trash] = 0.0
    phoneme_index = torch.where(phoneme_word_ids >= 0, phoneme_word_ids, trash)  # (B, P)
    return means.gather(1, phoneme_index.unsqueeze(-1).expand(-1, -1, hidden))  # (B, P, H)


class WordFusion(nn.Module):
    """Add word-pooled BPE states to the phoneme states through a learned Linear projection.

    ``phonemes + Linear(pool_words_to_phonemes(bpe, ...))``. The projection lets the model choose
    which BPE features reach the phoneme stream (the two streams are trained apart in stage 1, so
    their spaces need not agree); with ``zero_init`` it is a :class:`ZeroInitLinear`, so
    the fused states start equal to the phoneme states.

    Example:
        >>> fusion = WordFusion(hidden_size=4, zero_init=True)
        >>> phonemes = torch.randn(1, 3, 4)
        >>> out = fusion(phonemes, torch.randn(1, 2, 4), torch.tensor([[0, 1]]), torch.tensor([[0, 0, 1]]))
        >>> torch.equal(out, phonemes)  # zero projection: nothing added yet
        True
    """

    def __init__(self, hidden_size: int, zero_init: bool) -> None:
        super().__init__()
        self.projection = (
            ZeroInitLinear(hidden_size, hidden_size) if zero_init else nn.Linear(hidden_size, hidden_size)
        )

    def forward(
        self,
        phoneme_states: torch.Tensor,
        bpe_states: torch.Tensor,
        bpe_word_ids: torch.Tensor,
        phoneme_word_ids: torch.Tensor,
    ) -> torch.Tensor:
        """(B, P, H) phonemes, (B, T, H) BPE → (B, P, H); positions with word id -1 get nothing added."""
        pooled = pool_words_to_phonemes(bpe_states, bpe_word_ids, phoneme_word_ids)
        added = self.projection(pooled)
        # the projection's bias must not reach phonemes outside any word (specials, #, punctuation, padding)
        return phoneme_states + added * (phoneme_word_ids >= 0).unsqueeze(-1).to(added.dtype)


class MaskedLMHead(nn.Module):
    """BERT-style MLM head: Linear → activation → LayerNorm → Linear to vocabulary logits.

    The final ``decoder`` Linear can be tied to an input embedding by the model
    (``tie_word_embeddings=True``); its bias stays separate.

    Example:
        >>> head = MaskedLMHead(hidden_size=8, vocab_size=11, activation="gelu", layer_norm_eps=1e-6)
        >>> head(torch.randn(2, 5, 8)).shape
        torch.Size([2, 5, 11])
    """

    def __init__(self, hidden_size: int, vocab_size: int, activation: str, layer_norm_eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = ACT2FN[activation]
        self.norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """(B, T, H) → (B, T, vocab) logits."""
        return self.decoder(self.norm(self.activation(self.dense(hidden_states))))
