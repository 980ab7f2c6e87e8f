"""Sentence and image encoders, the DAMSM matching loss, R-precision, and DF-GAN's fusion networks."""

import pytest
import torch
import torch.nn.functional as F

from ganforge.nets.fusion import Affine, FusionGenerator, MatchingDiscriminator, WordAttention
from ganforge.nets.text import (
    ImageEncoder,
    SentenceEncoder,
    matching_loss,
    r_precision,
    similarity,
    swap_two_words,
    word_classes,
    word_matching_loss,
    word_similarity,
)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_sentence_encoder_reads_words_and_ignores_padding(cell) -> None:
    torch.manual_seed(0)
    enc = SentenceEncoder(vocab_size=20, embed_dim=8, hidden=16, cell=cell)
    tokens = torch.tensor([[5, 6, 7, 0, 0], [5, 6, 8, 0, 0]])
    out = enc(tokens)
    assert out.shape == (2, 32)
    assert not torch.allclose(out[0], out[1])  # one word differs
    padded = torch.cat([tokens, torch.zeros(2, 4, dtype=torch.long)], 1)
    assert torch.allclose(enc(padded), out, atol=1e-6)  # padding is never read
    assert not torch.allclose(enc(torch.tensor([[7, 6, 5]])), out[:1])  # order matters


def test_word_vectors_stop_at_each_captions_end_and_match_the_sentence_vector() -> None:
    torch.manual_seed(0)
    enc = SentenceEncoder(vocab_size=20, embed_dim=8, hidden=16)
    tokens = torch.tensor([[5, 6, 7, 0, 0, 0], [5, 6, 8, 9, 0, 0]])
    sentence, words, mask = enc.encode(tokens)
    assert torch.equal(sentence, enc(tokens))
    assert words.shape == (2, 4, 32) and mask.tolist() == [[True] * 3 + [False], [True] * 4]
    assert words[0, 3].abs().max() == 0  # nothing past the first caption's end
    assert torch.allclose(words[0, 2, :16], sentence[0, :16])  # forward state at the last word
    assert torch.allclose(words[0, 0, 16:], sentence[0, 16:])  # backward state at the first word


def test_word_attention_starts_as_identity_reads_the_words_and_never_the_padding() -> None:
    torch.manual_seed(0)
    attend = WordAttention(channels=4, word_dim=6, size=4)
    h, words = torch.randn(2, 4, 4, 4), torch.randn(2, 3, 6)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    assert torch.equal(attend(h, words, mask), h)  # the output convolution starts at zero
    torch.nn.init.normal_(attend.out.weight)
    out = attend(h, words, mask)
    changed = words.clone()
    changed[0, 2] = 5.0  # a padding word of caption 0
    assert torch.allclose(attend(h, changed, mask)[0], out[0])
    changed[0, 1] = 5.0  # a real word
    assert not torch.allclose(attend(h, changed, mask)[0], out[0])
    assert torch.allclose(attend(h, changed, mask)[1], out[1])  # captions do not mix
    assert attend(torch.randn(1, 4, 8, 8), words[:1], mask[:1]).shape == (1, 4, 8, 8)  # other sizes too


def test_fusion_networks_with_word_attention_read_each_word() -> None:
    torch.manual_seed(0)
    gen = FusionGenerator(noise_dim=4, cond_dim=6, channels=3, size=32, width=8, word_dim=6)
    disc = MatchingDiscriminator(cond_dim=6, channels=3, size=32, width=8, word_dim=6)
    assert [a.position.shape[-1] for a in gen.attention] == [8, 16]
    for layer in [*gen.attention, disc.attention]:
        torch.nn.init.normal_(layer.out.weight, std=0.5)
    z, e, words = torch.randn(2, 4), torch.randn(2, 6), torch.randn(2, 3, 6)
    mask = torch.ones(2, 3, dtype=torch.bool)
    x = gen(z, e, words, mask)
    other = words.clone()
    other[:, 1] = -words[:, 1]
    assert not torch.allclose(gen(z, e, other, mask), x)
    assert not torch.allclose(disc(x, e, other, mask), disc(x, e, words, mask))
    assert gen(z, e).shape == x.shape  # no word vectors: the sentence stands for one word


def test_spatial_sentence_vector_has_one_slot_per_cell_and_the_image_vector_one_block_per_cell() -> None:
    torch.manual_seed(0)
    enc = SentenceEncoder(vocab_size=20, embed_dim=8, hidden=16, grid=2)
    tokens = torch.tensor([[5, 6, 7, 0, 0], [5, 6, 8, 0, 0]])
    slots = enc(tokens)
    assert slots.shape == (2, 32) and not torch.allclose(slots[0], slots[1])
    assert torch.allclose(enc(torch.cat([tokens, torch.zeros(2, 3, dtype=torch.long)], 1)), slots, atol=1e-6)
    blocks = slots.view(2, 4, 8)
    assert not torch.allclose(blocks[:, 0], blocks[:, 1])  # each slot has its own query
    with pytest.raises(ValueError, match="divisible"):
        SentenceEncoder(vocab_size=20, hidden=5, grid=2)
    image = ImageEncoder(3, 32, 32, width=8, grid=2)
    x = torch.randn(1, 3, 32, 32)
    v = image(x).view(4, 8)
    corner = x.clone()
    corner[..., :2, :2] += 3.0  # only the top-left corner: it reaches the top-left cell's features alone
    w = image(corner).view(4, 8)
    assert not torch.allclose(w[0], v[0]) and torch.allclose(w[1:], v[1:])


def test_matching_loss_prefers_matching_pairs_and_trains_encoders() -> None:
    torch.manual_seed(0)
    v = torch.randn(16, 8)
    assert matching_loss(v, v) < matching_loss(v, v.roll(1, 0))
    text, image = SentenceEncoder(12, 8, 8), ImageEncoder(1, 8, 16, width=8)
    tokens = torch.randint(2, 12, (16, 4))
    images = torch.randn(16, 1, 8, 8)
    opt = torch.optim.Adam([*text.parameters(), *image.parameters()], 1e-2)
    first = float(matching_loss(image(images), text(tokens)).detach())
    for _ in range(60):
        loss = matching_loss(image(images), text(tokens))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.2 * first


def test_swap_two_words_exchanges_two_different_words_and_leaves_padding() -> None:
    tokens = torch.tensor([[5, 6, 7, 8, 0, 0], [4, 4, 4, 0, 0, 0], [9, 0, 0, 0, 0, 0], [3, 3, 2, 0, 0, 0]])
    swapped, valid = swap_two_words(tokens, torch.Generator().manual_seed(0))
    assert valid.tolist() == [True, False, False, True]
    for row, new, ok in zip(tokens, swapped, valid, strict=True):
        changed = (row != new).nonzero().flatten().tolist()
        assert len(changed) == (2 if ok else 0)
        if ok:
            a, b = changed
            assert new[a] == row[b] and new[b] == row[a] and row[a] != row[b]
        assert torch.equal(new[row == 0], row[row == 0])  # padding stays padding


def test_word_classes_group_words_by_their_contexts_and_swaps_stay_inside_a_class() -> None:
    from ganforge.data.captions import shapes_text

    source = shapes_text(n=400)
    words = source.info["vocab"]["words"]
    classes = word_classes(source.tokens, len(words))
    of = {w: int(classes[i]) for i, w in enumerate(words)}
    assert of["red"] == of["navy"] == of["lemon"] != of["circle"]
    assert of["circle"] == of["box"] == of["wedge"] != of["small"]
    assert of["small"] == of["huge"] != of["red"] and of["top"] == of["lower"] != of["left"]
    assert int(classes[0]) == -1  # padding
    swapped, valid = swap_two_words(source.tokens[:, 0], torch.Generator().manual_seed(0), classes=classes)
    assert valid.float().mean() > 0.4  # two-object captions (and some position words) have a pair
    for row, new in zip(source.tokens[:, 0][valid], swapped[valid], strict=True):
        a, b = (row != new).nonzero().flatten().tolist()
        assert classes[row[a]] == classes[row[b]] >= 0 and new[a] == row[b]


def test_matching_loss_ranks_hard_negatives_below_the_true_sentence() -> None:
    torch.manual_seed(0)
    v, e, neg = torch.randn(6, 8), torch.randn(6, 8), torch.randn(6, 8)
    valid = torch.tensor([True, True, False, True, False, True])
    logits = 10 * torch.cat([similarity(v, e), similarity(v, neg[valid])], 1)
    target = torch.arange(6)
    expected = F.cross_entropy(logits, target) + F.cross_entropy(10 * similarity(v, e).T, target)
    assert torch.allclose(matching_loss(v, e, negatives=neg, negatives_valid=valid), expected, atol=1e-6)
    masked_all = matching_loss(v, e, negatives=neg, negatives_valid=torch.zeros(6, dtype=torch.bool))
    assert torch.allclose(masked_all, matching_loss(v, e), atol=1e-6)
    assert matching_loss(v, e, negatives=e) > matching_loss(v, e)  # a negative equal to the truth costs


def test_word_similarity_is_attngans_formula_and_finds_each_word_in_some_region() -> None:
    torch.manual_seed(0)
    regions, words = torch.randn(3, 16, 8), torch.randn(2, 4, 8)
    mask = torch.tensor([[True, True, True, False], [True, True, True, True]])
    got = word_similarity(regions, words, mask, gamma1=4.0, gamma2=5.0)
    for i in range(3):
        for j in range(2):
            e = words[j][mask[j]]  # (L, D)
            alpha = (4.0 * (e @ regions[i].T).softmax(0)).softmax(1)  # normalised over words, then regions
            cosine = F.cosine_similarity(alpha @ regions[i], e, dim=1)
            assert torch.isclose(got[i, j], (5.0 * cosine).logsumexp(0) / 5.0, atol=1e-5)
    # an image holding a region that looks like each word scores higher than one without
    with_words = torch.randn(1, 16, 8)
    with_words[0, :3] = words[0, :3] * 3
    without = torch.randn(1, 16, 8)
    assert word_similarity(with_words, words[:1], mask[:1]) > word_similarity(without, words[:1], mask[:1])


def test_word_matching_loss_prefers_images_that_show_their_words() -> None:
    torch.manual_seed(0)
    words, mask = torch.randn(6, 3, 8), torch.ones(6, 3, dtype=torch.bool)
    regions = torch.randn(6, 16, 8) * 0.1
    regions[:, :3] += words * 2  # image i shows the words of sentence i
    assert word_matching_loss(regions, words, mask) < word_matching_loss(regions, words.roll(1, 0), mask)
    swapped = words.flip(1)  # the same words: as near a miss as can be, the order is not in these vectors
    with_negatives = word_matching_loss(regions, words, mask, negatives=(swapped, mask))
    assert torch.isclose(word_matching_loss(regions, words, mask, negatives=(swapped, mask),
                                            negatives_valid=torch.zeros(6, dtype=torch.bool)),
                         word_matching_loss(regions, words, mask))
    assert with_negatives > word_matching_loss(regions, words, mask)


def test_r_precision_ranks_the_true_caption_first() -> None:
    v = torch.eye(4)
    others = -torch.eye(4)[:, None, :].expand(4, 99, 4)
    assert r_precision(v, v, others).tolist() == [1.0] * 4
    assert r_precision(v, -v, others.neg()).tolist() == [0.0] * 4


def test_affine_starts_as_identity_and_fusion_networks_read_the_sentence() -> None:
    torch.manual_seed(0)
    h, e = torch.randn(3, 5, 4, 4), torch.randn(3, 7)
    assert torch.equal(Affine(7, 5)(h, e), h)
    gen = FusionGenerator(noise_dim=4, cond_dim=7, channels=3, size=16, width=8)
    disc = MatchingDiscriminator(cond_dim=7, channels=3, size=16, width=8)
    z = torch.randn(3, 4)
    x = gen(z, e)
    assert x.shape == (3, 3, 16, 16) and x.abs().max() <= 1
    assert not torch.allclose(gen(z, e.roll(1, 0)), x)
    assert disc(x, e).shape == (3,) and not torch.allclose(disc(x, e), disc(x, e.roll(1, 0)))


def test_grid_affine_starts_as_identity_and_modulates_each_cell_on_its_own() -> None:
    torch.manual_seed(0)
    h, e = torch.randn(2, 3, 8, 8), torch.randn(2, 5)
    affine = Affine(5, 3, grid=2)
    assert torch.equal(affine(h, e), h)
    with torch.no_grad():
        affine.gamma[2].bias.copy_(torch.tensor([1.0, 1.0, 1.0, 3.0] * 3))  # scale 3 in the bottom-right cell only
    out = affine(h, e)
    assert torch.allclose(out[:, :, :2, :2], h[:, :, :2, :2]) and torch.allclose(
        out[:, :, -2:, -2:], 3 * h[:, :, -2:, -2:]
    )
    gen = FusionGenerator(noise_dim=4, cond_dim=5, channels=3, size=16, width=8, grid=4)
    assert gen(torch.randn(2, 4), e).shape == (2, 3, 16, 16)
