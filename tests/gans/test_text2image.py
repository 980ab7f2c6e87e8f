"""The DF-GAN text-to-image model: stages, conditioning of G and D, the mismatched-pair term and MA-GP."""

import pytest
import torch
import torch.nn.functional as F

from ganforge.data.captions import shapes_text
from ganforge.data.vocabulary import tokenize
from ganforge.errors import GanforgeError
from ganforge.gans.registry import build_model

SMALL = {"type": "text2image", "g_width": 8, "d_width": 8, "encoder_width": 8, "text_hidden": 16, "embed_dim": 8,
         "noise_dim": 8, "encoder_steps": 3}


@pytest.fixture(scope="module")
def source():
    s = shapes_text(n=64)
    s.fit_scaler("tanh")
    return s


def model(source, **settings):
    torch.manual_seed(0)
    return build_model({**SMALL, **settings}, source)


def test_stages_and_caption_bank(source) -> None:
    gan = model(source)
    assert [p.name for p in gan.phases(2)] == ["matching"]
    assert [p.name for p in gan.phases(3)] == ["discriminator", "generator"]
    assert {p.name for p in gan.all_phases()} == {"matching", "discriminator", "generator"}
    assert (gan.caption_bank != 0).any(1).all()  # training captions kept for sampling without text
    batch = source.batch(8, torch.Generator().manual_seed(0))
    for phase in gan.all_phases():
        loss, logs = gan.phase_loss(phase, batch, 0)
        assert torch.isfinite(loss) and logs


def test_conditioning_reaches_generator_and_discriminator(source) -> None:
    gan = model(source)
    torch.manual_seed(1)
    a = gan.sample(4, text="a large red circle at the top left")
    torch.manual_seed(1)
    b = gan.sample(4, text="a small blue square at the bottom right")
    torch.manual_seed(1)
    again = gan.sample(4, text="a large red circle at the top left")
    assert torch.equal(a, again) and not torch.allclose(a, b)
    x = source.batch(4, torch.Generator().manual_seed(0)).x
    red, blue = gan.tokens("a red circle", 4), gan.tokens("a blue square", 4)
    assert not torch.allclose(gan.discriminate(x, red), gan.discriminate(x, blue))


def test_mismatched_pair_term_and_ma_gp(source) -> None:
    gan = model(source)
    batch = source.batch(8, torch.Generator().manual_seed(0))
    phase = gan.phases(10)[0]
    torch.manual_seed(5)
    loss, logs = gan.phase_loss(phase, batch, 0)
    e = gan.encode_text(batch.y)
    mismatched = gan.discriminator(batch.x, e.roll(1, 0))  # real image, another image's sentence
    assert torch.allclose(logs["d_mismatch"], F.relu(1 + mismatched).mean(), atol=1e-5)
    x = batch.x.clone().requires_grad_(True)
    e_real = e.clone().requires_grad_(True)
    gx, ge = torch.autograd.grad(gan.discriminator(x, e_real).sum(), (x, e_real))
    norm = (gx.flatten(1).pow(2).sum(1) + ge.pow(2).sum(1)).sqrt()
    assert torch.allclose(logs["ma_gp"], 2.0 * norm.pow(6).mean(), rtol=1e-4)
    expected = logs["d_real"] + 0.5 * logs["d_fake"] + 0.5 * logs["d_mismatch"] + logs["ma_gp"]
    assert torch.allclose(loss.detach(), expected, atol=1e-5)
    # the term pushes D down on mismatched pairs: one step on it alone lowers D(x, e_mis)
    opt = torch.optim.SGD(gan.discriminator.parameters(), lr=0.05)
    before = gan.discriminator(batch.x, e.roll(1, 0)).mean()
    F.relu(1 + gan.discriminator(batch.x, e.roll(1, 0))).mean().backward()
    opt.step()
    assert gan.discriminator(batch.x, e.roll(1, 0)).mean() < before


def test_swap_negatives_reach_the_encoder_loss_and_d_as_a_second_mismatched_pair(source) -> None:
    from ganforge.nets.text import matching_loss, swap_two_words

    gan = model(source, swap_negatives=True)
    batch = source.batch(8, torch.Generator().manual_seed(0))
    torch.manual_seed(3)
    loss, _ = gan.phase_loss(gan.phases(0)[0], batch, 0)  # matching
    torch.manual_seed(3)
    swapped, valid = swap_two_words(batch.y, classes=gan.word_class)
    assert valid.any() and not torch.equal(swapped, batch.y)
    v, e = gan.image_encoder(batch.x), gan.text_encoder(batch.y)
    expected = matching_loss(v, e, negatives=gan.text_encoder(swapped), negatives_valid=valid)
    assert torch.allclose(loss, expected, atol=1e-5) and not torch.allclose(loss, matching_loss(v, e), atol=1e-4)
    torch.manual_seed(5)
    _, logs = gan.phase_loss(gan.phases(10)[0], batch, 0)  # discriminator
    torch.manual_seed(5)
    gan.noise.sample(len(batch), batch.x.device)  # the draws before the swap
    swapped, valid = swap_two_words(batch.y, classes=gan.word_class)
    e = gan.encode_text(batch.y)
    other = F.relu(1 + gan.discriminator(batch.x, e.roll(1, 0))).mean()
    hard = F.relu(1 + gan.discriminator(batch.x, gan.encode_text(swapped)))[valid].mean()
    assert torch.allclose(logs["d_mismatch"], 0.5 * other + 0.5 * hard, atol=1e-5)


def test_word_attention_reaches_g_d_and_the_gradient_penalty(source) -> None:
    gan = model(source, word_attention=True, swap_negatives=True, matching_weight=1.0)
    text = gan.condition(gan.tokens(["a red circle at the top left", "a blue square at the bottom right"]))
    assert text.words is not None and text.words.shape[:2] == text.mask.shape
    for layer in [*gan.generator.attention, gan.discriminator.attention]:
        torch.nn.init.normal_(layer.out.weight, std=0.5)
    z = gan.noise.sample(2)
    words = text.words.clone()
    words[:, 1] = 0.0  # the colour words
    assert not torch.allclose(gan.generator(z, *text), gan.generator(z, text.sentence, words, text.mask))
    x = gan.generator(z, *text).detach()
    assert not torch.allclose(gan.discriminator(x, *text), gan.discriminator(x, text.sentence, words, text.mask))
    batch = source.batch(8, torch.Generator().manual_seed(0))
    for phase in gan.phases(10):
        loss, logs = gan.phase_loss(phase, batch, 0)
        assert torch.isfinite(loss)
    gan.gp_weight = 0.0
    torch.manual_seed(5)
    without_gp, _ = gan.phase_loss(gan.phases(10)[0], batch, 0)
    gan.gp_weight = 2.0
    torch.manual_seed(5)
    with_gp, logs = gan.phase_loss(gan.phases(10)[0], batch, 0)
    assert torch.allclose(with_gp - without_gp, logs["ma_gp"], atol=1e-5) and logs["ma_gp"] > 0
    inputs = [t.detach().requires_grad_(True) for t in (batch.x, *gan.condition(batch.y)[:2])]
    real = gan.discriminator(*inputs, gan.condition(batch.y).mask)
    norms = sum(g.flatten(1).pow(2).sum(1) for g in torch.autograd.grad(real.sum(), inputs))
    assert torch.allclose(logs["ma_gp"], 2.0 * norms.pow(3).mean(), rtol=1e-4)  # words are penalised too
    assert gan.sample(3, text="a red box").shape == (3, 3, 32, 32)


def test_word_matching_adds_attngans_word_level_term_in_both_stages(source) -> None:
    from ganforge.nets.text import matching_loss, word_matching_loss

    gan = model(source, word_matching=True, matching_weight=1.0)
    batch = source.batch(8, torch.Generator().manual_seed(0))
    loss, _ = gan.phase_loss(gan.phases(0)[0], batch, 0)  # matching
    v, regions = gan.image_encoder.encode(batch.x)
    e, words, mask = gan.text_encoder.encode(batch.y)
    assert regions.shape == (8, 16, e.shape[1])
    assert torch.allclose(loss, matching_loss(v, e) + word_matching_loss(regions, words, mask), atol=1e-5)
    loss.backward()
    assert gan.image_encoder.region_head.weight.grad.abs().sum() > 0  # the region features are trained
    torch.manual_seed(4)
    _, logs = gan.phase_loss(gan.phases(10)[1], batch, 0)  # generator
    torch.manual_seed(4)
    fake = gan.generator(gan.noise.sample(8), gan.encode_text(batch.y))
    v, regions = gan.image_encoder.encode(fake)
    expected = matching_loss(v, e) + word_matching_loss(regions, words, mask)
    assert torch.allclose(logs["g_matching"], expected, atol=1e-5)
    with pytest.raises(ValueError, match="region"):
        model(source).image_encoder.encode(batch.x)


def test_text_grid_gives_g_and_d_a_spatial_sentence_vector(source) -> None:
    gan = model(source, text_grid=2)
    batch = source.batch(8, torch.Generator().manual_seed(0))
    assert gan.encode_text(batch.y).shape == (8, 2 * SMALL["text_hidden"])
    for phase in [*gan.phases(0), *gan.phases(10)]:
        loss, _ = gan.phase_loss(phase, batch, 0)
        assert torch.isfinite(loss)
    assert gan.sample(2, text="a red box at the top left").shape == (2, 3, 32, 32)
    with pytest.raises(GanforgeError, match="text_grid"):
        model(source, text_grid=3)


def test_mode_seeking_term_equals_msgans_ratio_and_pairs_noises_of_one_caption(source) -> None:
    from ganforge.gans.text2image import mode_seeking_loss

    images = torch.tensor([[0.0, 1.0], [2.0, 2.0], [1.0, 1.0], [2.0, 4.0]])  # halves: (0, 1) vs (2, 3)
    z = torch.tensor([[0.0], [0.0], [2.0], [1.0]])
    ratio = ((1 + 0 + 0 + 2) / 4) / ((2 + 1) / 2)  # mean|image diff| / mean|z diff|
    assert mode_seeking_loss(images, z, eps=0.0).item() == pytest.approx(1 / ratio)
    gan = model(source, mode_seeking=1.0)
    batch = source.batch(8, torch.Generator().manual_seed(0))
    generator = gan.phases(10)[1]
    torch.manual_seed(3)
    loss, logs = gan.phase_loss(generator, batch, 0)
    assert "g_mode_seeking" in logs and torch.isfinite(loss)
    assert loss.item() == pytest.approx((logs["g_adv"] + logs["g_mode_seeking"]).item(), rel=1e-5)
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in gan.generator.parameters())
    with pytest.raises(GanforgeError, match="loss weights"):
        model(source, mode_seeking=-1.0)


def test_sampling_inputs(source, capsys) -> None:
    gan = model(source)
    assert gan.sample(3).shape == (3, 3, 32, 32)  # random training captions
    assert gan.sample(5, text=["a red box", "a blue disc"]).shape == (5, 3, 32, 32)
    gan.sample(2, text="a purple circle")
    assert "'purple'" in capsys.readouterr().err
    with pytest.raises(GanforgeError, match="empty"):
        gan.sample(2, text="")
    with pytest.raises(GanforgeError, match="not class labels"):
        gan.sample(2, label=3)


def test_needs_captioned_data() -> None:
    from ganforge.data.images import digits

    with pytest.raises(GanforgeError, match="captioned images"):
        build_model(SMALL, digits())


def test_sampling_options_of_other_families_are_refused_not_ignored(source) -> None:
    """`--truncation 0.5 --mix-styles` on a text run, and a misspelt `truncaton=`, drew pictures as if unsaid."""
    gan = model(source)
    for option in ("truncation", "mix_styles", "truncaton"):
        flag = option.replace("_", "-")
        with pytest.raises(GanforgeError, match=rf"^{option} \(--{flag}\): this TextToImageGAN model has no such "
                                                r"sampling option.*options: text \(--text\)$"):
            gan.sample(2, text="a red box", **{option: 0.5})
    with pytest.raises(GanforgeError, match="truncation"):
        gan.generate(gan.sample_latents(2), gan.tokens("a red box", 2), truncation=0.5)
    assert gan.sample(2, text="a red box").shape == (2, 3, 32, 32)


@pytest.mark.parametrize("text", [5, [], ["a red box", 3], b"a red box"])
def test_text_that_is_not_sentences_is_one_line(source, text) -> None:
    gan = model(source)
    with pytest.raises(GanforgeError, match=r"^text=.*: give a caption or a list of captions \(strings\), e\.g\. "):
        gan.sample(2, text=text)


def test_empty_caption_hint_is_one_of_the_runs_own_captions() -> None:
    """A digits run was told to write "a small red circle at the top left"."""
    from ganforge.data.captions import digits_text

    digits = digits_text()
    digits.fit_scaler("tanh")
    gan = model(digits)
    example = gan.example_caption()
    assert example is not None and example in {" ".join(tokenize(c)) for cs in digits.captions for c in cs}
    for empty in ("", " ...", ["a thick seven", ""]):
        with pytest.raises(GanforgeError, match="empty") as caught:
            gan.sample(2, text=empty)
        assert f'e.g. --text "{example}"' in str(caught.value) and "circle" not in str(caught.value)


def test_sampling_captions_say_which_sentence_each_sample_is_for(source, capsys) -> None:
    gan = model(source)
    tokens, captions = gan.sampling_captions(3, ["a red box", "a blue disc"])
    assert captions == ["a red box", "a blue disc", "a red box"] and torch.equal(tokens, gan.tokens(captions))
    assert capsys.readouterr().err == ""
    torch.manual_seed(0)
    tokens, captions = gan.sampling_captions(5)
    assert torch.equal(gan.tokens(captions), tokens)  # the words drawn give the same sentences again
    assert all(any(torch.equal(t, b) for b in gan.caption_bank) for t in tokens)
    gan.sampling_captions(2)
    err = capsys.readouterr().err
    assert err.count("note: no --text") == 1 and "random caption of the training set" in err  # once per model
    assert f'--text "{gan.example_caption()}"' in err
