"""Time series: windows, a split by time with nothing leaking back, and the mistakes said."""

import numpy as np
import pytest
import torch

from engine.data import DataError, load_data

SUNSPOTS = "presets/data/sunspots.csv"


def write(tmp_path, rows, header="day,value", name="s.csv"):
    path = tmp_path / name
    path.write_text(header + "\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return str(path)


def series(path, **settings):
    return load_data({"kind": "time_series", "path": path, **settings})


def test_windows_and_targets_follow_the_series(tmp_path):
    rows = [f"{t},{t * 10},{-t}" for t in range(20)]
    path = write(tmp_path, rows, "t,value,other")
    splits = series(path, target="value", window=4, horizon=2, normalize="none", val_fraction=0.25)
    x, y = splits.train.x, splits.train.y
    assert x.shape == (10, 4, 2) and y.shape == (10, 2)
    assert x[0, :, 0].tolist() == [0, 10, 20, 30] and x[0, :, 1].tolist() == [0, -1, -2, -3]
    assert y[0].tolist() == [40, 50] and y[-1].tolist() == [130, 140]  # ends before step 15
    val = splits.val
    assert val.y[0].tolist() == [150, 160] and val.x[0, 0, 0] == 110  # inputs reach back
    assert splits.val.info["series"]["target_times"][0] == 15.0


def test_the_scaling_is_fitted_on_the_training_period_only(tmp_path):
    rows = [f"{t},{t if t < 16 else 1000}" for t in range(20)]
    splits = series(write(tmp_path, rows), window=3, val_fraction=0.2)
    scale = splits.train.info["series"]["scale"]
    assert scale["mean"] == [pytest.approx(7.5)]  # the 1000s of the validation period not in it
    raw = splits.val.y * scale["std"][0] + scale["mean"][0]
    assert torch.allclose(raw, torch.full_like(raw, 1000.0))


def test_a_stride_skips_starts(tmp_path):
    splits = series(write(tmp_path, [f"{t},{t}" for t in range(30)]), window=5, stride=3)
    assert splits.train.x.shape[0] == len(range(0, 24 - 5 - 1 + 1, 3))


def test_sunspots_dates_become_years():
    splits = series(SUNSPOTS, target="value", window=48)
    times = splits.val.info["series"]["target_times"]
    assert times[-1] == pytest.approx(1983.92, abs=0.01) and splits.train.info["series"]["dates"]
    assert splits.train.x.shape[1:] == (48, 1)


def test_many_series_one_a_row_are_classified(tmp_path):
    rng = np.random.default_rng(0)
    rows = [
        ",".join([["up", "down"][i % 2], *map(str, rng.normal(size=8).round(3))]) for i in range(30)
    ]
    path = write(tmp_path, rows, "label," + ",".join(f"t{i}" for i in range(8)))
    splits = series(path, target="label", series_task="classify")
    assert splits.train.x.shape[1:] == (8, 1) and splits.train.classes == ["down", "up"]
    assert len(splits.train) + len(splits.val) == 30
    assert abs(float(splits.train.x.mean())) < 1e-5  # one mean over the training series


@pytest.mark.parametrize(
    ("rows", "settings", "message"),
    [
        (
            ["2020-01-01,1", "2020-01-03,2", "2020-01-02,3"],
            {},
            r"s.csv line 4, column 'day': "
            r"'2020-01-02' comes before '2020-01-03' on the line above; the rows of a series",
        ),
        (["1,1", "2,2", "2,3"], {}, r"line 4, column 'day': '2' repeats the time on the line"),
        (["2020-01-01,1", "someday,2"], {}, r"line 3, column 'day': 'someday' is not a time"),
        (["1,1", "2,", "3,3"], {}, r"line 3, column 'value': empty value; a series needs"),
        (
            [f"{t},{t}" for t in range(10)],
            {"window": 20},
            r"a window of 20 steps and a horizon"
            r" of 1 need 21 steps, but s.csv has 10",
        ),
        ([f"{t},{t}" for t in range(10)], {"window": 8}, r"the training period of s.csv has 8"),
        ([f"{t},x{t}" for t in range(10)], {}, r"a series' values must be numbers"),
    ],
)
def test_series_mistakes_are_named(tmp_path, rows, settings, message):
    with pytest.raises(DataError, match=message):
        series(write(tmp_path, rows), **{"window": 2, **settings})


def test_a_parquet_series_cuts_as_its_csv_does(tmp_path):
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    pq.write_table(pa_csv.read_csv(SUNSPOTS), tmp_path / "sunspots.parquet")
    settings = {"target": "value", "window": 12, "horizon": 3, "stride": 5}
    from_csv = series(SUNSPOTS, **settings)
    from_parquet = series(str(tmp_path / "sunspots.parquet"), **settings)
    for a, b in ((from_csv.train, from_parquet.train), (from_csv.val, from_parquet.val)):
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
