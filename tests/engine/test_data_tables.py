"""Tables through pyarrow: categorical columns, missing cells, Parquet, and the mistakes
each names by file, line and column."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from engine.data import DataError, load_data, load_table
from engine.data.encoding import encode, fit_encoding


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_text_column_is_one_hot_and_a_named_one_can_be_ids(tmp_path):
    rows = "".join(f"{i},{'rgb'[i % 3]},c{i % 4},{i % 2}\n" for i in range(12))
    path = write(tmp_path, "size,colour,city,y\n" + rows)
    splits = load_data(
        {"kind": "csv", "path": str(path), "categorical": "city:ids", "normalize": "none"}
    )
    assert splits.train.feature_names == ["size", "colour=b", "colour=g", "colour=r", "city"]
    x = torch.cat([splits.train.x, splits.val.x])
    onehot = x[:, 1:4]
    assert torch.equal(onehot.sum(1), torch.ones(12))  # every colour is in the training part
    assert set(x[:, 4].tolist()) <= {0.0, 1.0, 2.0, 3.0, 4.0}  # ids from 1; 0 is unknown
    assert [fit["kind"] for fit in splits.encoding] == ["number", "onehot", "ids"]


def test_the_encoding_knows_only_the_training_parts_categories():
    columns = [{"name": "c", "kind": "onehot", "categories": ["a", "b", "z"]}]
    train = np.array([[0.0], [1.0], [0.0]])
    fitted = fit_encoding(train, columns, "refuse")
    assert fitted[0]["categories"] == ["a", "b"]
    new = encode(np.array([[2.0], [1.0]]), columns, fitted)  # z: seen only in validation
    assert new.tolist() == [[0.0, 0.0], [0.0, 1.0]]
    as_ids = [{**columns[0], "kind": "ids"}]
    ids = encode(np.array([[2.0], [1.0], [np.nan]]), as_ids, fit_encoding(train, as_ids, "mean"))
    assert ids.tolist() == [[0.0], [2.0], [1.0]]  # unknown 0; missing: the most frequent, a


def test_ids_are_not_standardised(tmp_path):
    rows = "".join(f"{i * 10},c{i % 3},{i % 2}\n" for i in range(30))
    path = write(tmp_path, "size,city,y\n" + rows)
    splits = load_data({"kind": "csv", "path": str(path), "categorical": "city:ids"})
    assert splits.normalization["mean"][1] == 0.0 and splits.normalization["std"][1] == 1.0
    assert set(splits.train.x[:, 1].tolist()) == {1.0, 2.0, 3.0}
    assert abs(float(splits.train.x[:, 0].mean())) < 1e-5  # the numbers are


@pytest.mark.parametrize(("missing", "fill"), [("mean", 3.0), ("most_frequent", 1.0)])
def test_missing_cells_take_the_training_parts_value(tmp_path, missing, fill):
    path = write(tmp_path, "a,b,y\n1,x,0\n1,,1\n7,x,0\n,y,1\n")
    data = load_table(path, missing=missing)
    assert torch.isnan(data.x[3, 0]) and torch.isnan(data.x[1, 1])
    settings = {"missing": missing, "normalize": "none", "val_fraction": 0.0}
    splits = load_data({"kind": "csv", "path": str(path), **settings})
    filled = [fit["fill"] for fit in splits.encoding]
    assert filled[0] == pytest.approx(fill) and filled[1] == "x"
    assert not torch.isnan(torch.cat([splits.train.x, splits.val.x])).any()


def test_a_column_empty_in_the_training_part_cannot_be_filled(tmp_path):
    path = write(tmp_path, "a,b,y\n,1,0\n,2,1\n,3,0\n")
    with pytest.raises(DataError, match="column 'a' has no value in the training part"):
        load_data({"kind": "csv", "path": str(path), "missing": "mean", "val_fraction": 0.0})


def test_parquet_files_are_a_kind(tmp_path):
    table = pa.table({"x": [0.5, 1.5, 2.5, 3.5], "label": ["cat", "dog", "cat", "dog"]})
    pq.write_table(table, tmp_path / "t.parquet")
    data = load_table(tmp_path / "t.parquet")
    assert data.classes == ["cat", "dog"] and data.x[:, 0].tolist() == [0.5, 1.5, 2.5, 3.5]
    assert data.info["source"] == "parquet t.parquet"
    write(tmp_path, "a,b\n1,2\n", "fake.parquet")
    with pytest.raises(DataError, match=r"fake.parquet: not a Parquet file that can be read"):
        load_table(tmp_path / "fake.parquet")


def test_a_parquet_cell_is_named_by_its_row(tmp_path):
    table = pa.table({"x": [1.0, None, 2.0], "y": [0, 1, 0]})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"t.parquet row 2, column 'x': empty value"):
        load_table(tmp_path / "t.parquet")


@pytest.mark.parametrize(
    ("text", "settings", "message"),
    [
        (
            "a,b\n1,2\n2,x\n3,4\n",
            {"target": "a"},
            r"data.csv line 3, column 'b': 'x' is text in a column of numbers",
        ),
        (
            "when,b\n2020-01-01,1\n2020-01-02,0\n",
            {},
            r"column 'when': holds dates or times .*ignore",
        ),
        ("a,b\n1,0\n2,1\n", {"ignore": "c"}, r"data.ignore: data.csv has no column named 'c'"),
        ("a,b\n1,0\n", {"categorical": "a:hashed"}, r"after ':' write onehot or ids"),
        ("a,b\n1,\n2,1\n", {}, r"line 2, column 'b': empty value \(a target\)"),
        ("a,b\n1,0\n", {"ignore": "a"}, "every column is a target or ignored"),
    ],
)
def test_table_mistakes_are_named(tmp_path, text, settings, message):
    with pytest.raises(DataError, match=message):
        load_table(write(tmp_path, text), **settings)


def test_a_column_of_many_texts_asks_to_be_named(tmp_path):
    rows = "".join(f"name{i},{i % 2}\n" for i in range(150))
    path = write(tmp_path, "who,y\n" + rows)
    with pytest.raises(DataError, match=r"150 different texts.*who:ids"):
        load_table(path)
    assert load_table(path, categorical="who:ids").x.shape == (150, 1)


def test_blank_padded_numbers_and_true_false(tmp_path):
    path = write(tmp_path, "a,flag,y\n 1 ,true,3.5\n2, false,1\n")
    data = load_table(path)
    assert data.x.tolist() == [[1.0, 1.0], [2.0, 0.0]] and data.task == "regression"
    labels = load_table(write(tmp_path, "a,ok\n1,true\n2,false\n", "b.csv"))
    assert labels.classes == ["false", "true"] and labels.y.tolist() == [1, 0]
