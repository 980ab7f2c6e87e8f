"""``Vocabulary``: unknown words of a caption are read as ``<unk>`` and named once, with the known word meant."""

from ganforge.data.vocabulary import UNK_ID, Vocabulary


def test_a_misspelt_word_is_named_with_the_known_word_it_is_closest_to(capsys) -> None:
    vocab = Vocabulary.from_captions(["a thick slanted seven", "a thin upright one"], max_len=8)
    ids = vocab.encode("a thik slanted sevn elephant", "--text")
    assert ids[1] == UNK_ID and ids[3] == UNK_ID and ids[4] == UNK_ID
    note = capsys.readouterr().err
    assert "'thik' (did you mean 'thick'?)" in note and "'sevn' (did you mean 'seven'?)" in note
    assert "'elephant' " in note and "'elephant' (did you mean" not in note  # nothing close: no guess
