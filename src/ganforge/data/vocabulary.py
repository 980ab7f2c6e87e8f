"""Words to token ids and back: the tokenizer and vocabulary of captioned data.

A caption is lower-cased and split into words of letters and digits (``"Top-left, a RED disc!"`` ->
``top left a red disc``); punctuation separates words and is dropped. Id 0 is padding, id 1 the unknown
token: a word the vocabulary has never seen is read as ``<unk>`` and reported once per vocabulary (on
stderr), so a typo in ``--text`` is visible without stopping a run. An empty caption has nothing to
condition on and is a one-line :class:`~ganforge.errors.GanforgeError`.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence

import torch

from ganforge.errors import GanforgeError

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
_WORD = re.compile(r"[a-z0-9]+")


def tokenize(caption: str, where: str = "caption") -> list[str]:
    """The words of ``caption``: lower-cased runs of letters and digits. Empty -> one-line error."""
    if not isinstance(caption, str):
        raise GanforgeError(f"{where}: a caption must be text, got {type(caption).__name__}")
    words = _WORD.findall(caption.lower())
    if not words:
        raise GanforgeError(
            f"{where}: the caption {caption!r} is empty (no words); write what the image shows, "
            "e.g. \"a small red circle at the top left\""
        )
    return words


class Vocabulary:
    """Word <-> id table with ``<pad>`` = 0 and ``<unk>`` = 1; ``max_len`` tokens per encoded caption."""

    def __init__(self, words: Sequence[str], max_len: int = 32) -> None:
        words = list(words)
        if words[:2] != [PAD, UNK]:
            words = [PAD, UNK, *(w for w in words if w not in (PAD, UNK))]
        if len(set(words)) != len(words):
            raise ValueError("a vocabulary lists each word once")
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}
        self.max_len = int(max_len)
        self.reported: set[str] = set()

    @classmethod
    def from_captions(cls, captions: Iterable[str], max_len: int | None = None, min_count: int = 1) -> Vocabulary:
        """The vocabulary of ``captions`` (words seen at least ``min_count`` times, most frequent first,
        ties alphabetical); ``max_len`` defaults to the longest caption."""
        counts: Counter[str] = Counter()
        longest = 1
        for i, caption in enumerate(captions):
            words = tokenize(caption, f"caption {i + 1}")
            counts.update(words)
            longest = max(longest, len(words))
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(kept, max_len or longest)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, caption: str, where: str = "caption") -> list[int]:
        """Token ids of ``caption`` (at most ``max_len``; longer captions keep their first words, noted once).
        Unknown words become ``<unk>`` and are reported once each."""
        words = tokenize(caption, where)
        unknown = [w for w in words if w not in self.index and w not in self.reported]
        if unknown:
            self.reported.update(unknown)
            named = ", ".join(repr(w) + self._closest(w) for w in dict.fromkeys(unknown))
            print(
                f"note: {where}: unknown word(s) {named} read as {UNK} (the model knows {len(self) - 2} words)",
                file=sys.stderr,
            )
        if len(words) > self.max_len and "<long>" not in self.reported:
            self.reported.add("<long>")
            print(f"note: {where}: captions longer than {self.max_len} words keep their first {self.max_len}",
                  file=sys.stderr)
        return [self.index.get(w, UNK_ID) for w in words[: self.max_len]]

    def _closest(self, word: str) -> str:
        """``" (did you mean 'thick'?)"`` for a misspelling of a known word (``thik``), else ``""``: the cutoff is
        stricter than config keys' (0.5 matched 'elephant' to 'slanted'), since a wrong guess misleads."""
        close = difflib.get_close_matches(word, self.words[2:], n=1, cutoff=0.75)
        return f" (did you mean '{close[0]}'?)" if close else ""

    def encode_batch(self, captions: Sequence[str], where: str = "caption") -> torch.Tensor:
        """``(N, max_len)`` long tensor of token ids, right-padded with ``<pad>`` (0)."""
        out = torch.zeros(len(captions), self.max_len, dtype=torch.long)
        for i, caption in enumerate(captions):
            ids = self.encode(caption, where if len(captions) == 1 else f"{where} {i + 1}")
            out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The words of token ids, padding dropped (``decode(encode(c)) == " ".join(tokenize(c))`` for
        captions of known words)."""
        values = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        return " ".join(self.words[i] for i in values if i != PAD_ID)

    def to_dict(self) -> dict[str, object]:
        return {"words": self.words, "max_len": self.max_len}

    @classmethod
    def from_dict(cls, state: dict[str, object], where: str = "vocabulary") -> Vocabulary:
        words, max_len = state.get("words"), state.get("max_len")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words) or not isinstance(max_len, int):
            raise GanforgeError(f"{where}: the stored vocabulary is damaged; train the run again")
        return cls(words, max_len)
