"""Text-to-image GAN: DF-GAN (Tao et al., CVPR 2022) with a text encoder trained here from scratch.

Why DF-GAN and not AttnGAN: DF-GAN is one generator/discriminator pair at the output resolution (AttnGAN
stacks three generators with word attention and a DAMSM loss on each), it reaches better FID on CUB/COCO
with the sentence vector alone, and its two ingredients are cheap on a CPU: affine text fusion in every
generator block (``nets/fusion.py``) and a matching-aware discriminator with a gradient penalty.
From AttnGAN we keep the text side: a bidirectional recurrent sentence encoder and its sentence-image
matching loss (DAMSM, sentence level; ``nets/text.py``), trained first and then frozen, as DF-GAN uses
AttnGAN's pre-trained DAMSM encoder.

Training runs in two stages as trainer phases:

1. ``matching`` for ``encoder_steps`` steps: the text and image encoders minimise the DAMSM loss on real
   (image, caption) pairs.
2. ``discriminator`` then ``generator`` each step, text encoder frozen (sentence vector e):

   * D (hinge, DF-GAN eq. 1-2): ``L_D = E[max(0, 1 - D(x, e))] + 1/2 E[max(0, 1 + D(G(z, e), e))]
     + 1/2 E[max(0, 1 + D(x, e_mis))] + k E[(||grad_x D(x, e)||^2 + ||grad_e D(x, e)||^2)^(p/2)]`` with
     ``e_mis`` the sentence of another image of the batch (the *mismatched pair*: a real image with the
     wrong sentence is fake to a matching-aware D) and MA-GP, the matching-aware gradient penalty on real
     matching pairs, k = 2, p = 6 (DF-GAN's values).
   * G: ``L_G = -E[D(G(z, e), e)]`` (+ ``matching_weight`` times the DAMSM loss of generated images with
     their sentences, AttnGAN's L_DAMSM term; 0 = DF-GAN).

``swap_negatives`` adds hard negatives (:func:`~ganforge.nets.text.swap_two_words`: each caption with two
words of one class exchanged, classes found from the training captions by :func:`~ganforge.nets.text.word_classes`,
e.g. its two colours) to both stages: in ``matching`` as extra wrong sentences of the DAMSM loss, in G's
DAMSM term likewise (a generated image must be closer to its caption than to the swapped one; since round 10),
and in D's loss as a second mismatched pair, ``e_mis`` split evenly between another image's sentence and the
image's own sentence with two words swapped: ``1/2 E[max(0, 1 + D(x, e_other))] + 1/2 E[max(0, 1 + D(x,
e_swapped))]`` in place of the mismatched term. A random other sentence almost never differs only in which
object has which colour or shape, so without them neither the encoder nor D learns that binding.

``text_grid`` (2 in the ``shapes-text`` recipe) makes the sentence vector spatial, one slot per cell of the
image, matched cell by cell in the DAMSM loss (``nets/text.py``): with the encoders' final states alone the
generator put a caption's two colours on the wrong objects as often as on the right ones, though it binds
when told per cell what to draw (docs/benchmarks/text_to_image.md, round 10). ``word_attention`` and
``word_matching`` are AttnGAN's word-level attention in G and D and its word-level DAMSM term, settings.
``mode_seeking`` adds MSGAN's term to G's loss (each G batch then holds half as many captions, each with
two noises): a generator conditioned this tightly tends to draw one picture per caption whatever its noise.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.data.base import Batch, DataSource
from ganforge.data.vocabulary import Vocabulary, tokenize
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Noise, Phase, frozen
from ganforge.gans.registry import register_model
from ganforge.nets.fusion import FusionGenerator, MatchingDiscriminator
from ganforge.nets.text import (
    ImageEncoder,
    SentenceEncoder,
    Text,
    matching_loss,
    similarity,
    swap_two_words,
    word_classes,
    word_matching_loss,
)

MATCHING = Phase("matching", ("text_encoder", "image_encoder"))
DISCRIMINATOR = Phase("discriminator", ("discriminator",))
GENERATOR = Phase("generator", ("generator",))
BANK_SIZE = 256  # training captions kept in the model, for sampling without a sentence


def mode_seeking_loss(images: Tensor, z: Tensor, eps: float = 1e-5) -> Tensor:
    """MSGAN's mode-seeking term (Mao et al., CVPR 2019, eq. 3) for a batch whose first and second halves
    share their conditions: 1 / (mean|G(c, z1) - G(c, z2)| / mean|z1 - z2| + eps). Minimizing it makes two
    noises of one caption give different images, against a conditional generator that ignores its noise."""
    half = images.shape[0] // 2
    ratio = (images[:half] - images[half : 2 * half]).abs().mean() / (z[:half] - z[half : 2 * half]).abs().mean()
    return 1.0 / (ratio + eps)


class TextToImageGAN(GANModel):
    """DF-GAN conditioned on a learned sentence encoder; ``sample(n, text=...)`` reads sentences."""

    output_activation = "tanh"
    reads_text = True  # `ganforge sample --text` applies
    sampling_options_of_sample = ("text",)  # its one sampling option; any other is refused (base class check)

    def __init__(
        self, vocab: Vocabulary, channels: int, size: int, *, noise_dim: int = 32, cell: str = "gru",
        embed_dim: int = 32, text_hidden: int = 64, g_width: int = 32, d_width: int = 32, encoder_width: int = 32,
        encoder_steps: int = 1000, gp_weight: float = 2.0, gp_power: float = 6.0, mismatch_weight: float = 0.5,
        matching_weight: float = 0.0, swap_negatives: bool = False, fusion_grid: int = 1,
        word_attention: bool = False, word_matching: bool = False, text_grid: int = 0, mode_seeking: float = 0.0,
    ) -> None:
        super().__init__()
        self.vocab = vocab
        self.noise = Noise(noise_dim)
        self.text_encoder = SentenceEncoder(len(vocab), embed_dim, text_hidden, cell, text_grid)  # type: ignore[arg-type]
        cond = self.text_encoder.out_dim
        self.image_encoder = ImageEncoder(channels, size, cond, encoder_width, regions=word_matching, grid=text_grid)
        self.word_matching = bool(word_matching)
        word_dim = cond if word_attention else 0
        self.generator = FusionGenerator(noise_dim, cond, channels, size, g_width, fusion_grid, word_dim)
        self.discriminator = MatchingDiscriminator(cond, channels, size, d_width, word_dim)
        self.word_attention = bool(word_attention)
        self.register_buffer("caption_bank", torch.zeros(BANK_SIZE, vocab.max_len, dtype=torch.long))
        self.encoder_steps = encoder_steps
        self.gp_weight, self.gp_power = gp_weight, gp_power
        self.mismatch_weight, self.matching_weight = mismatch_weight, matching_weight
        self.swap_negatives = bool(swap_negatives)
        self.mode_seeking = mode_seeking
        # word classes of the training captions for the swaps (set by the builder from live data; not saved:
        # a resumed run's builder recomputes them, a loaded one only samples); until then one class of all words
        self.register_buffer("word_class", torch.zeros(len(vocab), dtype=torch.long), persistent=False)

    # --- text ---------------------------------------------------------------------------------------
    def tokens(self, text: Any, n: int | None = None) -> Tensor:
        """Token ids (n, L) of one sentence (repeated ``n`` times) or of a list of sentences (cycled to ``n``).

        ``text`` is checked here, where the run's own captions are at hand: anything but a sentence or a list
        of sentences, or a sentence with no words, is one line that shows a caption of this run (a digits run
        was told to write "a small red circle at the top left")."""
        texts = self._texts(text)
        for i, caption in enumerate(texts):
            try:
                tokenize(caption)
            except GanforgeError:
                where = "--text" if len(texts) == 1 else f"--text, caption {i + 1}"
                raise GanforgeError(
                    f"{where}: the caption {caption!r} is empty (no words); write what the picture should show, "
                    f"{self._example_text()}"
                ) from None
        ids = self.vocab.encode_batch(texts, "--text")
        n = len(texts) if n is None else n
        return ids[torch.arange(n) % len(texts)]

    def _texts(self, text: Any) -> list[str]:
        """``text`` as a list of sentences: one sentence, or a non-empty list or tuple of them; else one line
        (``text=5`` raised a bare ``TypeError: 'int' object is not iterable``)."""
        texts = [text] if isinstance(text, str) else list(text) if isinstance(text, (list, tuple)) else None
        if texts is None or not texts or not all(isinstance(t, str) for t in texts):
            raise GanforgeError(
                f"text={text!r:.60}: give a caption or a list of captions (strings), {self._example_text('text=')}"
            )
        return texts

    def example_caption(self) -> str | None:
        """A caption of the run's own training data (the first of its caption bank), for hints; None when
        the bank is empty (a model built without live data)."""
        first = self.caption_bank[0]
        return self.vocab.decode(first) if bool((first != 0).any()) else None

    def _example_text(self, how: str = "--text ") -> str:
        """``e.g. --text "a thin upright three"``: how to give a sentence, with one of this run's captions."""
        return f'e.g. {how}"{self.example_caption() or "a caption"}"'

    def encode_text(self, tokens: Tensor) -> Tensor:
        """Sentence vectors of token ids, encoder frozen (no gradient)."""
        with torch.no_grad():
            return self.text_encoder(tokens)

    def condition(self, tokens: Tensor, encoded: tuple[Tensor, Tensor, Tensor] | None = None) -> Text:
        """What G and D read of token ids, encoder frozen: the sentence vectors, and with ``word_attention``
        the word vectors and mask (else None); ``encoded``: the text encoder's output for ``tokens``, if at hand."""
        if encoded is None:
            with torch.no_grad():
                encoded = self.text_encoder.encode(tokens)
        e, words, mask = encoded
        return Text(e, words, mask) if self.word_attention else Text(e, None, None)

    def bank_tokens(self, n: int, device: torch.device | str = "cpu") -> Tensor:
        """``n`` training captions drawn from the model's caption bank (torch's global RNG)."""
        idx = torch.randint(0, self.caption_bank.shape[0], (n,))
        return self.caption_bank[idx].to(device)

    # --- training -----------------------------------------------------------------------------------
    def phases(self, step: int) -> list[Phase]:
        return [MATCHING] if step < self.encoder_steps else [DISCRIMINATOR, GENERATOR]

    def all_phases(self) -> list[Phase]:
        return [MATCHING, DISCRIMINATOR, GENERATOR]

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor | None, dict[str, Tensor]]:
        assert batch is not None and batch.y is not None
        if phase.name == "matching":
            loss, v, e = self.damsm_loss(batch.x, batch.y, train_text=True)
            logs = {"matching": loss.detach()}
            if self.logging_step:
                logs["match_top1"] = (similarity(v, e).argmax(1) == torch.arange(len(v))).float().mean().detach()
            return loss, logs
        with torch.no_grad():
            encoded = self.text_encoder.encode(batch.y)
        text = self.condition(batch.y, encoded)
        z = self.noise.sample(len(batch), batch.x.device)
        if phase.name == "discriminator":
            return self._discriminator_loss(batch.x, text, z, batch.y)
        tokens = batch.y
        if self.mode_seeking > 0:  # half the captions, each with two noises (same G cost): MSGAN's pairs
            pairs = torch.arange(len(batch) // 2, device=z.device).repeat(2)
            text = Text(*(None if t is None else t[pairs] for t in text))
            encoded = tuple(None if t is None else t[pairs] for t in encoded)  # type: ignore[assignment]
            tokens = tokens[pairs]
            z = z[: len(pairs)]
        with frozen(self.discriminator):
            fake = self.generator(z, *text)
            adv = -self.discriminator(fake, *text).mean()
            loss, logs = adv, {"g_adv": adv.detach()}
            if self.mode_seeking > 0:
                seeking = mode_seeking_loss(fake, z)
                loss = loss + self.mode_seeking * seeking
                logs["g_mode_seeking"] = seeking.detach()
            if self.matching_weight > 0:
                with frozen(self.image_encoder):
                    match = self.damsm_loss(fake, tokens, train_text=False, encoded=encoded)[0]
                loss = loss + self.matching_weight * match
                logs["g_matching"] = match.detach()
        return loss, logs

    def damsm_loss(
        self, images: Tensor, tokens: Tensor, train_text: bool, encoded: tuple[Tensor, Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """AttnGAN's DAMSM loss of ``images`` with their captions (sentence level; + word level with
        ``word_matching``; swapped captions as extra wrong sentences with ``swap_negatives``), the text
        encoder trained only with ``train_text`` (``encoded``: its frozen output for ``tokens``, if at hand);
        also the image and sentence vectors."""
        with contextlib.nullcontext() if train_text else torch.no_grad():
            e, words, mask = self.text_encoder.encode(tokens) if encoded is None else encoded
            negative, valid = (None, None, None), None
            if self.swap_negatives:
                swapped, valid = swap_two_words(tokens, classes=self.word_class)
                negative = self.text_encoder.encode(swapped)
        if self.word_matching:
            v, regions = self.image_encoder.encode(images)
        else:
            v = self.image_encoder(images)
        loss = matching_loss(v, e, negatives=negative[0], negatives_valid=valid)
        if self.word_matching:
            word_negatives = None if negative[1] is None else (negative[1], negative[2])
            loss = loss + word_matching_loss(regions, words, mask, negatives=word_negatives, negatives_valid=valid)
        return loss, v, e

    def _discriminator_loss(self, x: Tensor, text: Text, z: Tensor, tokens: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        with torch.no_grad():
            fake = self.generator(z, *text)
        x = x.detach().requires_grad_(True)
        inputs = [x, text.sentence.detach().requires_grad_(True)]
        if text.words is not None:
            inputs.append(text.words.detach().requires_grad_(True))
        features = self.discriminator.features(x)
        real = self.discriminator.logits(features, *inputs[1:], text.mask)
        other = Text(*(None if t is None else t.roll(1, 0) for t in text))
        mismatched = self.discriminator.logits(features, *other)
        fake_out = self.discriminator(fake, *text)
        loss_real = F.relu(1 - real).mean()
        loss_fake = F.relu(1 + fake_out).mean()
        loss_mis = F.relu(1 + mismatched).mean()
        if self.swap_negatives:
            swapped, valid = swap_two_words(tokens, classes=self.word_class)
            hard = F.relu(1 + self.discriminator.logits(features, *self.condition(swapped)))
            valid = valid.to(hard.device).float()
            loss_mis = 0.5 * loss_mis + 0.5 * (hard * valid).sum() / valid.sum().clamp_min(1.0)
        grads = torch.autograd.grad(real.sum(), inputs, create_graph=True)
        norm = sum(g.flatten(1).pow(2).sum(1) for g in grads).sqrt()  # type: ignore[union-attr]
        gp = self.gp_weight * norm.pow(self.gp_power).mean()
        loss = loss_real + (1 - self.mismatch_weight) * loss_fake + self.mismatch_weight * loss_mis + gp
        logs = {"d_real": loss_real.detach(), "d_fake": loss_fake.detach(), "d_mismatch": loss_mis.detach(),
                "ma_gp": gp.detach()}
        return loss, logs

    # --- sampling -----------------------------------------------------------------------------------
    def sample_latents(self, n: int) -> Tensor:
        return self.noise.sample(n)

    def generate(self, z: Tensor, y: Tensor | None = None, **options: Any) -> Tensor:
        """Images for latents ``z`` and token ids ``y`` (N, L); ``y=None`` draws training captions. A text
        model has no other sampling option: any (``truncation``...) is refused, not ignored."""
        self.check_sampling_options(options)
        tokens = self.bank_tokens(z.shape[0], z.device) if y is None else y
        return self.sampling_generator()(z, *self.condition(tokens))

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        tokens = self.bank_tokens(x.shape[0], x.device) if y is None else y
        return self.discriminator(x, *self.condition(tokens))

    def sampling_captions(self, n: int, text: Any = None) -> tuple[Tensor, list[str]]:
        """Token ids (n, L) and the caption of each of ``n`` samples: ``text`` cycled, or without it training
        captions drawn from the caption bank (torch's global RNG; the note of :meth:`note_training_captions`),
        decoded to the words the model reads (``--text`` with one gives its picture again). For writers that
        keep the captions beside the samples (``ganforge sample -o x.npz`` stores them under ``captions``)."""
        if text is not None:
            texts = self._texts(text)
            return self.tokens(texts, n), [texts[i % len(texts)] for i in range(n)]
        self.note_training_captions()
        tokens = self.bank_tokens(n)
        return tokens, [self.vocab.decode(t) for t in tokens]

    def note_training_captions(self) -> None:
        """One note per model on stderr when samples are drawn without a sentence: each is for a random
        caption of the training set, which a grid of pictures does not show; says how to choose one."""
        if getattr(self, "_noted_training_captions", False):
            return
        self._noted_training_captions = True
        print(
            "note: no --text (text=) given: each sample is drawn for a random caption of the training set (an .npz "
            f"output keeps them under 'captions'); choose the sentence, {self._example_text()} (Python: text=...)",
            file=sys.stderr,
        )

    @torch.no_grad()
    def sample(
        self, n: int, label: int | Tensor | None = None, batch_size: int = 4096, text: Any = None, **options: Any
    ) -> Tensor:
        """``n`` images for ``text`` (a sentence, or a list cycled over the samples), or for token ids
        ``label`` (N, L); with neither, for random training captions (``Run.sample``, what users call, notes
        that once on stderr). Any other option is refused (:meth:`check_sampling_options`)."""
        self.check_sampling_options(options)
        if isinstance(label, int) or (isinstance(label, Tensor) and label.dim() != 2):
            raise GanforgeError("this model is conditioned on text, not class labels; use --text \"a caption\"")
        device = next(self.parameters()).device
        tokens = self.tokens(text, n) if text is not None else label
        if tokens is None:  # internal checks (EMA choice, monitors) sample so; `Run.sample` notes it for users
            tokens = self.bank_tokens(n)
        was_training = self.training
        self.eval()
        try:
            out = [self.generate(self.sample_latents(min(batch_size, n - s)).to(device),
                                 tokens[s : s + batch_size].to(device)) for s in range(0, n, batch_size)]
            return torch.cat(out) if out else torch.empty(0)
        finally:
            self.train(was_training)


def vocabulary_of(source: DataSource) -> Vocabulary:
    """The vocabulary a captioned source (or a run's data description) carries in ``info["vocab"]``."""
    state = source.info.get("vocab") if isinstance(source.info, dict) else None
    if not isinstance(state, dict):
        raise GanforgeError(
            f"model.type text2image needs captioned images (data.source shapes-text, digits-text or "
            f"captioned-folder); '{source.name}' has no captions"
        )
    return Vocabulary.from_dict(state, f"{source.name} vocabulary")


@register_model("text2image")
def text2image(
    source: DataSource,
    noise_dim: int = 32,
    cell: Literal["gru", "lstm", "rnn"] = "gru",
    embed_dim: int = 32,
    text_hidden: int = 64,
    g_width: int = 32,
    d_width: int = 32,
    encoder_width: int = 32,
    encoder_steps: int = 1000,
    gp_weight: float = 2.0,
    gp_power: float = 6.0,
    mismatch_weight: float = 0.5,
    matching_weight: float = 0.0,
    swap_negatives: bool = False,
    fusion_grid: int = 1,
    word_attention: bool = False,
    word_matching: bool = False,
    text_grid: int = 0,
    mode_seeking: float = 0.0,
) -> TextToImageGAN:
    """DF-GAN-style text-to-image GAN with a bidirectional ``cell`` sentence encoder (2 x ``text_hidden``
    dimensions) pre-trained for ``encoder_steps`` steps with the DAMSM sentence loss, then frozen;
    ``swap_negatives``: word-order hard negatives in that loss and in D's (module doc); ``fusion_grid``: G's
    affine fusion per channel (1, DF-GAN) or per cell of a grid x grid map (``nets/fusion.py``);
    ``word_attention``: AttnGAN's word attention in G's blocks and on D's 4x4 features (``nets/fusion.py``);
    ``word_matching``: AttnGAN's word-level DAMSM term beside the sentence one, in both stages; ``text_grid``
    (0 = off, 1, 2 or 4): a spatial sentence vector of ``text_grid`` x ``text_grid`` slots, each matched to a
    cell of the image (``nets/text.py``); ``mode_seeking``: weight of MSGAN's mode-seeking term in G's loss
    (0 = off; :func:`mode_seeking_loss`)."""
    sizes = {"noise_dim": noise_dim, "embed_dim": embed_dim, "text_hidden": text_hidden, "g_width": g_width,
             "d_width": d_width, "encoder_width": encoder_width}
    for key, value in sizes.items():
        if not 1 <= value <= 1024:
            raise GanforgeError(f"model.{key}: {value} is not a size between 1 and 1024")
    if encoder_steps < 0 or min(gp_weight, mismatch_weight, matching_weight, mode_seeking) < 0 or not gp_power > 0:
        raise GanforgeError("model: encoder_steps and the loss weights must be >= 0, gp_power > 0")
    if not 1 <= fusion_grid <= 16:
        raise GanforgeError(f"model.fusion_grid: {fusion_grid} is not a grid side between 1 and 16")
    if text_grid not in (0, 1, 2, 4) or (text_grid and (2 * text_hidden) % text_grid**2):
        raise GanforgeError(
            f"model.text_grid: {text_grid} must be 0 (off), 1, 2 or 4, with 2 * text_hidden divisible by its square"
        )
    if mismatch_weight > 1:
        raise GanforgeError(f"model.mismatch_weight: {mismatch_weight}; it splits the fake terms, between 0 and 1")
    shape = tuple(source.sample_shape)
    if len(shape) != 3 or shape[1] != shape[2] or shape[0] not in (1, 3):
        raise GanforgeError(f"model.type text2image needs square 1- or 3-channel images, got samples of shape {shape}")
    gan = TextToImageGAN(
        vocabulary_of(source), shape[0], shape[1], noise_dim=noise_dim, cell=cell, embed_dim=embed_dim,
        text_hidden=text_hidden, g_width=g_width, d_width=d_width, encoder_width=encoder_width,
        encoder_steps=encoder_steps, gp_weight=gp_weight, gp_power=gp_power, mismatch_weight=mismatch_weight,
        matching_weight=matching_weight, swap_negatives=swap_negatives, fusion_grid=fusion_grid,
        word_attention=word_attention, word_matching=word_matching, text_grid=text_grid, mode_seeking=mode_seeking,
    )
    tokens = getattr(source, "tokens", None)
    if isinstance(tokens, Tensor) and tokens.numel():  # a live source: keep some of its captions for sampling
        g = torch.Generator().manual_seed(0)
        idx = torch.randint(0, tokens.shape[0], (BANK_SIZE,), generator=g)
        gan.caption_bank.copy_(tokens[idx, torch.randint(0, tokens.shape[1], (BANK_SIZE,), generator=g)])
        if swap_negatives:
            gan.word_class.copy_(word_classes(tokens, len(gan.vocab)))
    return gan
