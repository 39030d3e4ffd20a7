"""Texts as token ids: words, with a vocabulary built from the training part only.

Tokens: the text in lower case, cut into words (runs of letters, digits and "_", with
inner apostrophes kept: "don't") and single other characters (punctuation); blanks
separate them. Unicode letters count as letters.
Vocabulary: "<pad>" (id 0) and "<unk>" (id 1), then the tokens that occur at least
`min_freq` times in the training texts, the most frequent first (ties alphabetically),
until it holds `vocab_size` entries.
Ids: a text's first `max_length` tokens, a token the vocabulary lacks as "<unk>", then
"<pad>" to `max_length`: the int64 rows an Embedding takes (padding_idx 0).

Only the standard library is needed: the exported train.py holds this module's code as
it is.
"""

import collections
import re

PAD, UNK = "<pad>", "<unk>"
WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def tokens(text):
    """The tokens of one text."""
    return WORD.findall(text.lower())


def build_vocabulary(texts, vocab_size, min_freq):
    """The vocabulary of `texts` (the training part's), "<pad>" and "<unk>" first."""
    counts = collections.Counter(token for text in texts for token in tokens(text))
    kept = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
    return [PAD, UNK, *kept[: max(0, vocab_size - 2)]]


def token_ids(texts, vocabulary, max_length):
    """One row of `max_length` ids per text (lists of ints)."""
    index = {token: i for i, token in enumerate(vocabulary)}
    rows = []
    for text in texts:
        ids = [index.get(token, 1) for token in tokens(text)[:max_length]]
        rows.append(ids + [0] * (max_length - len(ids)))
    return rows
