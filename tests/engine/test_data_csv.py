"""CSV import: reading, target rules and every error a user can make."""

import pytest
import torch

from engine.data import DataError, load_table


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_string_labels_become_sorted_class_ids(tmp_path):
    path = write(tmp_path, "height, weight ,animal\n1.5,3,dog\n0.3,4,cat\n2,1e1,dog\n\n")
    data = load_table(path)
    assert data.task == "classification"
    assert data.classes == ["cat", "dog"]
    assert data.y.tolist() == [1, 0, 1] and data.y.dtype == torch.int64
    assert data.feature_names == ["height", "weight"]
    assert data.x.dtype == torch.float32
    assert data.x.tolist() == [[1.5, 3.0], [pytest.approx(0.3), 4.0], [2.0, 10.0]]


def test_integer_labels_are_classes_sorted_by_value(tmp_path):
    path = write(tmp_path, "a,label\n1,10\n2,2\n3,10\n")
    data = load_table(path)
    assert data.task == "classification"
    assert data.classes == ["2", "10"]
    assert data.y.tolist() == [1, 0, 1]


def test_decimal_target_is_regression_as_a_column(tmp_path):
    path = write(tmp_path, "a,price\n1,10.5\n2,3.0\n")
    data = load_table(path)
    assert data.task == "regression" and data.classes is None
    assert data.y.shape == (2, 1) and data.y.dtype == torch.float32


def test_many_distinct_integers_are_regression(tmp_path):
    rows = "".join(f"{i},{i * 7}\n" for i in range(150))
    data = load_table(write(tmp_path, "a,count\n" + rows))
    assert data.task == "regression"


def test_named_multi_column_targets_are_regression(tmp_path):
    path = write(tmp_path, "y1,a,y2,b\n1,2,3,4\n5,6,7,8\n")
    data = load_table(path, target=" y2, y1 ")
    assert data.task == "regression"
    assert data.y.tolist() == [[3.0, 1.0], [7.0, 5.0]]
    assert data.feature_names == ["a", "b"]
    assert data.x.tolist() == [[2.0, 4.0], [6.0, 8.0]]


def test_quoted_fields_and_byte_order_mark(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes('\ufeff"x","kind"\n"1.0","big, red"\n2,small\n'.encode())
    data = load_table(path)
    assert data.feature_names == ["x"]
    assert data.classes == ["big, red", "small"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c\n1,2,3\n4,5\n", "data.csv line 3: 2 values, expected 3"),
        ("a,age,c\n1,2,3\n4,,6\n", "data.csv line 3, column 'age': empty value"),
        ("a,age,c\n1,2,3\n4,  ,6\n", "data.csv line 3, column 'age': empty value"),
        ("a,b\n1,x\n4,\n", "data.csv line 3, column 'b': empty value"),
        ("a,b\n1,2\nabc,5\n", "data.csv line 3, column 'a': 'abc' is text in a column of num"),
        ("a,b\n1,2\nnan,5\n", "data.csv line 3, column 'a': empty value \\('nan'\\); fill"),
        ("a,b\n1,2\n1e39,5\n", "data.csv line 3, column 'a': '1e39' is too large for float32"),
        ("a,b\n1,2.5\n2,inf\n", "data.csv line 3, column 'b': 'inf' is not a finite number"),
        ("", "data.csv: the file is empty"),
        ("\n\n", "data.csv: the file is empty"),
        ("1,2,3\n4,5,6\n", "data.csv line 1: expected a header row of column names"),
        ("a,b\n", "data.csv: has a header but no data rows"),
        ("a,,c\n1,2,3\n", "data.csv line 1: column 2 has no name"),
        ("a,b,a\n1,2,3\n", "data.csv line 1: the column name 'a' appears twice"),
        ("label\ncat\n", "data.csv: every column is a target"),
    ],
)
def test_bad_files_name_the_file_and_place(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load_table(write(tmp_path, text))


def test_unknown_target_column_lists_the_columns(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(DataError, match=r"no column named 'c' for the target \(columns: a, b\)"):
        load_table(path, target="b,c")


def test_text_in_one_of_several_targets_is_refused(tmp_path):
    path = write(tmp_path, "a,y1,y2\n1,2,3\n4,5,six\n")
    with pytest.raises(DataError, match=r"line 3, column 'y2': 'six' is not a number .*several"):
        load_table(path, target="y1,y2")


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(DataError, match=r"nowhere.csv: no such file"):
        load_table(tmp_path / "nowhere.csv")
    with pytest.raises(DataError, match=r"is a folder"):
        load_table(tmp_path)
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,b\n1,\xff\n")
    with pytest.raises(DataError, match=r"latin.csv: not UTF-8 text"):
        load_table(path)
