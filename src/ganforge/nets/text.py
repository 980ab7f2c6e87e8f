"""Text and image encoders for text-to-image GANs, and the sentence-image matching loss that trains them.

* :class:`SentenceEncoder`: word embeddings read by a bidirectional recurrent network (GRU, LSTM or the
  plain Elman RNN of the course notes), trained from scratch. Padded captions are packed, so the forward
  direction stops at the last word and the backward one starts there; the sentence vector is the two
  directions' final hidden states, concatenated (AttnGAN's text encoder, Xu et al. 2018, sec. 3.3); with
  ``grid``, slots of attention over the word vectors, one per cell of the image (the spatial sentence vector).
* :class:`ImageEncoder`: a small CNN mapping an image to a vector of the same size (with ``grid``, one block
  per cell) and, optionally, to 4x4 region vectors.
* :func:`matching_loss`: AttnGAN's sentence-level DAMSM loss. With cosine similarities
  ``R(Q_i, D_j) = cos(v_i, e_j)`` of image ``i`` and sentence ``j`` in a batch of M matching pairs,
  ``P(D_i | Q_i) = softmax_j(gamma3 R(Q_i, D_j))`` and the loss is
  ``-sum_i log P(D_i | Q_i) - sum_i log P(Q_i | D_i)`` (averaged over the batch; gamma3 = 10 as in AttnGAN).
  :func:`word_matching_loss` is AttnGAN's word-level term (words attending to image regions), a setting.
* :func:`swap_two_words`: hard negative captions, each caption with two of its words of one class
  (:func:`word_classes`, by the contexts they occur in) exchanged (NegCLIP's word-order negatives,
  Yuksekgonul et al., ICLR 2023, with distributional classes in place of a part-of-speech tagger). Random
  other captions of a batch almost never differ from the true one only in which object has which
  attribute, so an encoder trained on them alone learns a bag of words ("red", "circle", "green",
  "square") and not their binding; appended to the loss as extra wrong sentences
  (``matching_loss(..., negatives=...)``) they make the binding count.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

Cell = Literal["gru", "lstm", "rnn"]


class Text(NamedTuple):
    """What a text-conditioned network reads of a caption: the sentence vector (N, D) and, for word
    attention, the word vectors (N, L, D) and their mask (N, L) (None when not used)."""

    sentence: Tensor
    words: Tensor | None
    mask: Tensor | None


class SentenceEncoder(nn.Module):
    """Token ids (N, L), 0 = padding -> sentence vectors (N, 2 * hidden).

    ``grid`` > 0 makes the sentence vector spatial: ``grid`` x ``grid`` slots, each attending over the word
    vectors (and a learned null word, for places the caption leaves empty) with a learned query,
    ``slot_q = sum_i softmax_i(q_q . K w_i / sqrt(D)) V w_i``; the sentence vector is the slots concatenated.
    Trained against an :class:`ImageEncoder` with the same ``grid`` (slot q faces image cell q), a slot
    comes to state what the caption puts in that part of the image."""

    def __init__(
        self, vocab_size: int, embed_dim: int = 32, hidden: int = 64, cell: Cell = "gru", grid: int = 0
    ) -> None:
        super().__init__()
        kinds = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}
        if cell not in kinds:
            raise ValueError(f"cell {cell!r} is not one of {', '.join(kinds)}")
        self.cell = cell
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = kinds[cell](embed_dim, hidden, batch_first=True, bidirectional=True)
        self.out_dim = 2 * hidden
        self.grid = int(grid)
        if self.grid:
            slots = self.grid**2
            if self.out_dim % slots:
                raise ValueError(f"a {grid}x{grid} grid needs 2 * hidden ({self.out_dim}) divisible by {slots}")
            self.slot_queries = nn.Parameter(torch.randn(slots, self.out_dim) * 0.5)
            self.null_word = nn.Parameter(torch.zeros(1, 1, self.out_dim))
            self.slot_key = nn.Linear(self.out_dim, self.out_dim)
            self.slot_value = nn.Linear(self.out_dim, self.out_dim // slots)

    def forward(self, tokens: Tensor) -> Tensor:
        return self.encode(tokens)[0]

    def encode(self, tokens: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Sentence vectors (N, 2 * hidden), word vectors (N, W, 2 * hidden) (both directions' hidden states
        at each word, AttnGAN's word features; zero past a caption's end) and the word mask (N, W), W the
        longest caption's length."""
        lengths = (tokens != 0).sum(1).clamp_min(1).cpu()
        width = int(lengths.max())
        packed = pack_padded_sequence(self.embed(tokens[:, :width]), lengths, batch_first=True, enforce_sorted=False)
        outputs, state = self.rnn(packed)
        h = state[0] if isinstance(state, tuple) else state  # (2, N, hidden): forward and backward final states
        words, _ = pad_packed_sequence(outputs, batch_first=True, total_length=width)
        mask = (torch.arange(width)[None, :] < lengths[:, None]).to(words.device)
        sentence = self._slots(words, mask) if self.grid else torch.cat([h[0], h[1]], dim=1)
        return sentence, words, mask

    def _slots(self, words: Tensor, mask: Tensor) -> Tensor:
        n = words.shape[0]
        words = torch.cat([self.null_word.expand(n, -1, -1), words], 1)
        mask = torch.cat([torch.ones(n, 1, dtype=torch.bool, device=mask.device), mask], 1)
        scores = self.slot_queries @ self.slot_key(words).transpose(1, 2) / math.sqrt(self.out_dim)  # (N, S, L+1)
        attention = scores.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)
        return (attention @ self.slot_value(words)).flatten(1)


class ImageEncoder(nn.Module):
    """Images (N, C, S, S) in model units -> vectors (N, out_dim): stride-2 convolutions to 4x4, then linear.
    With ``regions``, :meth:`encode` also gives one out_dim vector per cell of the 4x4 map (a 1x1
    convolution of its features: AttnGAN's local image features, for :func:`word_matching_loss`). With
    ``grid``, the vector is ``grid`` x ``grid`` blocks, one per cell of the pooled features (module doc)."""

    def __init__(
        self, channels: int, size: int, out_dim: int, width: int = 32, regions: bool = False, grid: int = 0
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, s = channels, size
        while s > 4:
            layers += [nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(0.2)]
            c, s, width = width, s // 2, min(width * 2, 128)
        self.features = nn.Sequential(*layers)
        self.grid = int(grid)
        # grid > 0: the vector is one out_dim / grid^2 projection per cell of the grid x grid pooled features,
        # concatenated cell by cell (the order of SentenceEncoder's slots)
        self.head: nn.Module = nn.Conv2d(c, out_dim // self.grid**2, 1) if self.grid else nn.Linear(c * s * s, out_dim)
        self.region_head = nn.Conv2d(c, out_dim, 1) if regions else None

    def _vector(self, h: Tensor) -> Tensor:
        if not self.grid:
            return self.head(h.flatten(1))
        return self.head(F.adaptive_avg_pool2d(h, self.grid)).flatten(2).transpose(1, 2).flatten(1)

    def forward(self, images: Tensor) -> Tensor:
        return self._vector(self.features(images))

    def encode(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Image vectors (N, out_dim) and region vectors (N, 16, out_dim)."""
        if self.region_head is None:
            raise ValueError("this image encoder was built without region features (regions=False)")
        h = self.features(images)
        return self._vector(h), self.region_head(h).flatten(2).transpose(1, 2)


def similarity(image_vectors: Tensor, sentence_vectors: Tensor) -> Tensor:
    """Cosine similarities (N_images, N_sentences)."""
    return F.normalize(image_vectors, dim=1) @ F.normalize(sentence_vectors, dim=1).T


WORD_CLASS_SIMILARITY = 0.6  # on the shapes captions 0.6-0.7 recover the attribute kinds exactly; 0.5 merges two


def word_classes(tokens: Tensor, vocab_size: int, threshold: float = WORD_CLASS_SIMILARITY) -> Tensor:
    """A class id per vocabulary word (V,), -1 for padding (id 0) and unseen words: words used in the same
    contexts share a class. Each word's context is the count vector of its left and right neighbours over
    ``tokens`` (..., L); words are taken by id and join the first class whose first word's context has
    cosine similarity above ``threshold``, else start a class. Colours, shapes, sizes and the position words
    of a caption set come out as classes of their own (and so do synonyms, which share contexts too)."""
    flat = tokens.reshape(-1, tokens.shape[-1]).long()
    pad = torch.zeros(len(flat), 1, dtype=torch.long)
    left, right = torch.cat([pad, flat[:, :-1]], 1), torch.cat([flat[:, 1:], pad], 1)
    used = flat != 0
    context = torch.zeros(vocab_size, 2 * vocab_size)
    ones = torch.ones(int(used.sum()))
    context.index_put_((flat[used], left[used]), ones, accumulate=True)
    context.index_put_((flat[used], vocab_size + right[used]), ones, accumulate=True)
    similar = F.normalize(context, dim=1) @ F.normalize(context, dim=1).T
    classes = torch.full((vocab_size,), -1, dtype=torch.long)
    firsts: list[int] = []
    for word in range(1, vocab_size):
        if context[word].sum() == 0:
            continue
        match = next((c for c, first in enumerate(firsts) if similar[word, first] > threshold), None)
        if match is None:
            firsts.append(word)
            match = len(firsts) - 1
        classes[word] = match
    return classes


def swap_two_words(
    tokens: Tensor, generator: torch.Generator | None = None, classes: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Each caption (N, L; 0 = padding) with two of its words exchanged, drawn uniformly among the position
    pairs holding different token ids (of one class, with ``classes`` from :func:`word_classes`: a colour
    with a colour, a shape with a shape, so the swap moves an attribute to the other object); and a mask
    (N,) of the captions that have such a pair (the others are left as they are and must not serve as
    negatives)."""
    # one class for every word without ``classes``; -1 (padding, unseen words) pairs with nothing
    kind = (tokens != 0).long() - 1 if classes is None else classes.to(tokens.device)[tokens]
    kind = kind.masked_fill(tokens == 0, -1)
    pairs = (kind[:, :, None] == kind[:, None, :]) & (kind[:, :, None] >= 0)
    pairs &= tokens[:, :, None] != tokens[:, None, :]
    pairs &= torch.ones_like(pairs[0]).triu(1)[None]
    valid = pairs.flatten(1).any(1)
    scores = torch.rand(pairs.shape, generator=generator, device=tokens.device).masked_fill(~pairs, -1.0)
    flat = scores.flatten(1).argmax(1)
    a, b = flat // tokens.shape[1], flat % tokens.shape[1]
    rows = torch.arange(len(tokens), device=tokens.device)[valid]
    out = tokens.clone()
    out[rows, a[valid]], out[rows, b[valid]] = tokens[rows, b[valid]], tokens[rows, a[valid]]
    return out, valid


def matching_loss(
    image_vectors: Tensor,
    sentence_vectors: Tensor,
    gamma: float = 10.0,
    negatives: Tensor | None = None,
    negatives_valid: Tensor | None = None,
) -> Tensor:
    """DAMSM sentence loss: cross-entropy of each image over the batch's sentences and of each sentence
    over the images, logits gamma * cosine similarity; pair i is the match of image i. ``negatives``
    (M, D): extra wrong sentences (:func:`swap_two_words`) every image's cross-entropy also ranks below its
    own, those where ``negatives_valid`` is False left out."""
    extra = None if negatives is None else gamma * similarity(image_vectors, negatives)
    return batch_contrastive(gamma * similarity(image_vectors, sentence_vectors), extra, negatives_valid)


def batch_contrastive(logits: Tensor, extra: Tensor | None = None, extra_valid: Tensor | None = None) -> Tensor:
    """``CE(logits_i, i)`` over each image's row plus ``CE(logits^T_j, j)`` over each sentence's column
    (pair i is the match of image i); ``extra`` (N, M): logits of wrong sentences appended to every row, the
    columns where ``extra_valid`` is False left out."""
    target = torch.arange(logits.shape[0], device=logits.device)
    text_side = F.cross_entropy(logits.T, target)
    if extra is not None:
        if extra_valid is not None:
            extra = extra.masked_fill(~extra_valid.to(extra.device)[None, :], float("-inf"))
        logits = torch.cat([logits, extra], dim=1)
    return F.cross_entropy(logits, target) + text_side


def word_similarity(
    regions: Tensor, words: Tensor, mask: Tensor, gamma1: float = 5.0, gamma2: float = 5.0
) -> Tensor:
    """AttnGAN's word-level image-sentence score R(Q, D) (Xu et al. 2018, eq. 9-10) for every image and
    sentence: (N_images, N_sentences). Each word e_i attends to the image's regions v_j,
    ``s_ij = e_i . v_j`` normalised over the words then ``alpha_ij = softmax_j(gamma1 s_ij)``, giving the
    region context ``c_i = sum_j alpha_ij v_j``; ``R = log(sum_i exp(gamma2 cos(c_i, e_i)))^(1 / gamma2)``
    over the caption's words (``mask``). A word scores high when some part of the image looks like it."""
    raw = torch.einsum("ird,jld->ijlr", regions, words)  # (images, sentences, words, regions)
    scores = raw.masked_fill(~mask[None, :, :, None], float("-inf")).softmax(2).nan_to_num(0.0)
    attention = (gamma1 * scores).softmax(3)
    # cos(c_i, e_i) without building c (images x sentences x words x dims): c . e = sum_j alpha_ij (v_j . e_i),
    # |c|^2 = alpha V V^T alpha^T with the image's region Gram matrix V V^T
    dot = (attention * raw).sum(3)
    gram = regions @ regions.transpose(1, 2)  # (images, regions, regions)
    context_sq = (torch.einsum("ijlr,irs->ijls", attention, gram) * attention).sum(3)
    norms = context_sq.clamp_min(1e-12).sqrt() * words.norm(dim=2).clamp_min(1e-6)[None]
    cosine = dot / norms  # (images, sentences, words)
    return (gamma2 * cosine).masked_fill(~mask[None], float("-inf")).logsumexp(2) / gamma2


def word_matching_loss(
    regions: Tensor,
    words: Tensor,
    mask: Tensor,
    gamma3: float = 10.0,
    negatives: tuple[Tensor, Tensor] | None = None,
    negatives_valid: Tensor | None = None,
) -> Tensor:
    """AttnGAN's word-level DAMSM loss: :func:`matching_loss`'s two cross-entropies over the batch with
    logits ``gamma3 * R(Q_i, D_j)`` of :func:`word_similarity` in place of the sentence cosine;
    ``negatives`` (words, mask) of extra wrong sentences ranked below each image's own, as there."""
    extra = None if negatives is None else gamma3 * word_similarity(regions, *negatives)
    return batch_contrastive(gamma3 * word_similarity(regions, words, mask), extra, negatives_valid)


def r_precision(image_vectors: Tensor, true_sentences: Tensor, mismatched: Tensor) -> Tensor:
    """AttnGAN's R-precision with R = 1: for each image, rank its true sentence among itself and the
    image's mismatched sentences (N, 99, D) by cosine similarity; 1 where the true one ranks first."""
    v = F.normalize(image_vectors, dim=1)
    true = (v * F.normalize(true_sentences, dim=1)).sum(1)
    others = torch.einsum("nd,nkd->nk", v, F.normalize(mismatched, dim=2))
    return (true > others.max(1).values).float()
