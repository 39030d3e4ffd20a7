"""Text classification data: a table (CSV or Parquet) with a text column and a label
column, the texts made token ids with a vocabulary of the training part
(engine.data.tokens).

`load_text` reads the texts and labels; x holds each sample's row for now (int64 [N, 1])
and info["texts"] the texts, so the vocabulary can be built once the training part is
known (`tokenized_parts`, from `engine.data.prepare.load_data`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from engine.data.csv_file import LISTED_COLUMNS, target_columns
from engine.data.dataset import DataError, TensorData
from engine.data.table_columns import table_target
from engine.data.table_file import column_names, is_text_type, read_table
from engine.data.tokens import WORD, build_vocabulary, token_ids, tokens


def load_text(path: Path, text_column: str, target: str, max_rows: int | None = None) -> TensorData:
    """The texts and class labels of the table at `path` (the first `max_rows` rows
    only, for a preview)."""
    names = column_names(path)
    if text_column not in names:
        listed = ", ".join(names[:LISTED_COLUMNS])
        raise DataError(
            f"{path.name}: no column named {text_column!r} for the texts "
            f"(columns: {listed}); name it with the text_column setting"
        )
    others = [name for name in names if name != text_column]
    if not others:
        raise DataError(f"{path.name}: has only the text column; add a label column")
    targets = [names[i] for i in target_columns(path, names, target or others[-1])]
    if text_column in targets or len(targets) != 1:
        raise DataError(f"data.target: name the one label column (not {text_column!r})")
    table = read_table(path, max_rows=max_rows)
    column = table.column(text_column)
    if not is_text_type(column.type):
        column = pc.cast(column, pa.string())
    texts = [text or "" for text in column.to_pylist()]
    if not any(text.strip() for text in texts):
        raise DataError(
            f"{path.name}, column {text_column!r}: empty in every row; there is no "
            "text to learn from"
        )
    y, classes = table_target(table, targets)
    if classes is None:
        raise DataError(
            f"{path.name}, column {targets[0]!r}: holds measurements; a text's "
            "label must be a class (text, or a few integers)"
        )
    if len(classes) < 2:
        raise DataError(
            f"{path.name}, column {targets[0]!r}: every row has the label "
            f"{classes[0]!r}; a classifier needs at least two classes"
        )
    rows = np.arange(len(texts), dtype=np.int64)[:, None]
    data = TensorData.classification(rows, y, classes, None, f"text {path.name}")
    data.info["texts"] = texts
    return data


def tokenized_parts(
    settings: dict, train: TensorData, *others: TensorData
) -> tuple[list[TensorData], dict[str, Any]]:
    """The parts with their texts as token ids, and the tokenizer (its rule and the
    vocabulary of the training part's texts) for the run to keep."""
    texts = train.info["texts"]
    vocabulary = build_vocabulary(
        [texts[i] for i in train.x[:, 0].tolist()], settings["vocab_size"], settings["min_freq"]
    )
    tokenizer = {
        "kind": "words",
        "lowercase": True,
        "pattern": WORD.pattern,
        "max_length": settings["max_length"],
        "vocabulary": vocabulary,
    }
    info = {k: v for k, v in train.info.items() if k != "texts"}

    def tokenized(part: TensorData) -> TensorData:
        chosen = [texts[i] for i in part.x[:, 0].tolist()]
        ids = token_ids(chosen, vocabulary, settings["max_length"])
        x = torch.tensor(ids, dtype=torch.int64).reshape(len(chosen), settings["max_length"])
        return replace(part, x=x, info=info)

    return [tokenized(part) for part in (train, *others)], tokenizer


def text_ids(text: str, tokenizer: dict[str, Any]) -> torch.Tensor:
    """One typed text as the model's input [1, max_length]."""
    ids = token_ids([text], tokenizer["vocabulary"], tokenizer["max_length"])
    return torch.tensor(ids, dtype=torch.int64)


def text_of(ids: torch.Tensor, tokenizer: dict[str, Any]) -> str:
    """A sample's ids as its tokens, padding left out."""
    vocabulary = tokenizer["vocabulary"]
    return " ".join(vocabulary[i] for i in ids.tolist() if i != 0)


def token_counts(texts: list[str]) -> list[int]:
    """Tokens per text, for the length histogram."""
    return [len(tokens(text)) for text in texts]
