"""Encoding a table's feature columns with what the training part holds.

A table is loaded as "raw" features, float64 [N, columns], one per column of the file:
a number column holds its values; a categorical column holds each cell's index in the
column's `categories` (its distinct texts, sorted); a missing cell is NaN. What turns
raw features into the model's is fitted on the training part only and kept with the run:

  fill        missing cells: the column's training-part mean ("mean"; a categorical
              column takes its most frequent category) or most frequent value
              ("most_frequent"; ties go to the lowest);
  one-hot     a column of 0/1 per category the training part holds; a category it does
              not hold (seen only in validation, or new data) is all zeros;
  ids         1 + the category's index among those the training part holds, 0 for one
              it does not: for an Embedding.

Only numpy is needed: the exported train.py holds this module's code as it is.
"""

import numpy as np

NUMBER, ONEHOT, IDS = "number", "onehot", "ids"


def fit_encoding(raw, columns, missing):
    """The encoding of `columns` (their descriptions: {"name", "kind", and "categories"
    for categorical kinds}) fitted on `raw`, the training part: JSON-ready, one entry
    per column, {"name", "kind", "fill", and "categories", those the training part
    holds}. Raises ValueError naming a column the training part holds no value of."""
    fitted = []
    for index, column in enumerate(columns):
        values = raw[:, index]
        present = values[~np.isnan(values)]
        entry = {"name": column["name"], "kind": column["kind"]}
        if column["kind"] != NUMBER:
            codes = np.unique(present.astype(np.int64))
            entry["categories"] = [column["categories"][code] for code in codes]
        if missing != "refuse":
            if not len(present):
                raise ValueError(f"column {column['name']!r} has no value in the training part")
            entry["fill"] = _fill(present, column, missing)
        fitted.append(entry)
    return fitted


def _fill(present, column, missing):
    if column["kind"] == NUMBER and missing == "mean":
        return float(present.astype(np.float64).mean())
    values, counts = np.unique(present, return_counts=True)
    mode = values[int(np.argmax(counts))]  # np.unique sorts: ties go to the lowest
    return float(mode) if column["kind"] == NUMBER else column["categories"][int(mode)]


def encode(raw, columns, fitted):
    """float32 [N, encoded features] from `raw` (features as loaded, with `columns`
    their descriptions) with the `fitted` encoding."""
    parts = []
    for index, (column, fit) in enumerate(zip(columns, fitted, strict=True)):
        values = raw[:, index].astype(np.float64)
        if fit["kind"] == NUMBER:
            if "fill" in fit:
                values = np.where(np.isnan(values), fit["fill"], values)
            parts.append(values[:, None])
            continue
        known = {name: position for position, name in enumerate(fit["categories"])}
        lookup = np.array([known.get(name, -1) for name in column["categories"]] + [-1])
        codes = np.where(np.isnan(values), len(column["categories"]), values).astype(np.int64)
        ids = lookup[codes]
        if "fill" in fit:
            ids = np.where(np.isnan(values), known.get(fit["fill"], -1), ids)
        if fit["kind"] == IDS:
            parts.append((ids + 1)[:, None].astype(np.float64))
        else:
            onehot = np.zeros((len(values), len(fit["categories"])))
            rows = np.flatnonzero(ids >= 0)
            onehot[rows, ids[rows]] = 1.0
            parts.append(onehot)
    return np.concatenate(parts, axis=1).astype(np.float32)


def encoded_names(fitted):
    """The encoded features' names: a one-hot column is "name=category"."""
    names = []
    for fit in fitted:
        if fit["kind"] == ONEHOT:
            names += [f"{fit['name']}={category}" for category in fit["categories"]]
        else:
            names.append(fit["name"])
    return names


def ids_unscaled(mean, std, fitted):
    """`mean` and `std` of a normalisation (one value per encoded feature, or one for
    all) with 0 and 1 for the features that are category ids, so they stay integers."""
    widths = [len(fit["categories"]) if fit["kind"] == ONEHOT else 1 for fit in fitted]
    total = sum(widths)
    mean, std = (list(v) * (total if len(v) == 1 else 1) for v in (mean, std))
    start = 0
    for fit, width in zip(fitted, widths, strict=True):
        if fit["kind"] == IDS:
            mean[start], std[start] = 0.0, 1.0
        start += width
    return mean, std
