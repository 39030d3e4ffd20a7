"""Project files: round trips, atomic saves, and every kind of bad file."""

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.document.graph import Graph
from engine.document.project import Project, ProjectError, load, save, to_dict
from tests.engine.graph_builders import chain
from tests.paths import PRESETS as PRESET_FOLDER

PRESETS = sorted(PRESET_FOLDER.glob("*.json"))


def small_project() -> Project:
    graph = Graph()
    chain(graph, ("Input", {"shape": [4]}), ("Linear", {"out_features": 3}), "Output")
    project = Project(name="tiny", description="three nodes", graph=graph)
    project.training.update(epochs=3, lr=0.5)
    project.ui = {"zoom": 1.5}
    return project


def write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def problems_of(tmp_path, doc) -> list[tuple[str, str]]:
    with pytest.raises(ProjectError) as caught:
        load(write(tmp_path / "p.json", doc))
    return caught.value.problems


def test_round_trip_keeps_everything(tmp_path):
    project = small_project()
    save(project, tmp_path / "p.json")
    again = load(tmp_path / "p.json")
    assert to_dict(again) == to_dict(project)
    assert again.training["epochs"] == 3 and again.ui == {"zoom": 1.5}
    assert again.training["losses"] == {
        "out": {"loss": "CrossEntropyLoss", "weight": 1.0, "target": None}
    }


def test_saving_over_a_file_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "p.json"
    save(small_project(), target)
    before = target.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    changed = small_project()
    changed.name = "changed"
    with pytest.raises(OSError, match="No space left"):
        save(changed, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]  # no temp file left


def test_saving_keeps_the_files_permissions(tmp_path):
    target = tmp_path / "p.json"
    save(small_project(), target)
    assert target.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    target.chmod(0o640)
    save(small_project(), target)
    assert target.stat().st_mode & 0o777 == 0o640


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_the_issue_example_location(tmp_path):
    doc = to_dict(small_project())
    doc["nodes"][1]["params"]["out_features"] = -1
    doc["nodes"].insert(0, doc["nodes"].pop())  # the Linear is nodes[1] either way
    assert ("nodes[2].params.out_features", "must be a positive integer, got -1") in problems_of(
        tmp_path, doc
    ) or ("nodes[1].params.out_features", "must be a positive integer, got -1") in problems_of(
        tmp_path, doc
    )


@pytest.mark.parametrize(
    ("mutate", "where", "message"),
    [
        (lambda d: d.update(schema_version=2), "schema_version", "from a newer Torchwright"),
        (lambda d: d.pop("schema_version"), "schema_version", "must be 1, got None"),
        (lambda d: d.update(schema_version="1"), "schema_version", "must be 1"),
        (lambda d: d.update(extra=1), "extra", "not a known part"),
        (lambda d: d.update(name=5), "name", "must be text"),
        (lambda d: d.update(nodes={}), "nodes", "must be a list"),
        (lambda d: d["nodes"].append(7), "nodes[3]", "must be an object"),
        (lambda d: d["nodes"][1].update(type="Dense"), "nodes[1].type", "unknown layer type"),
        (lambda d: d["nodes"][1].update(id=1), "nodes[1].id", "must be text"),
        (lambda d: d["nodes"][1].update(id="n1"), "nodes[1].id", "used by another node"),
        (lambda d: d["nodes"][1].update(label="x"), "nodes[1].label", "used by another node"),
        (lambda d: d["nodes"][1].update(label="2 fast"), "nodes[1].label", "Python name"),
        (lambda d: d["nodes"][1].update(pos=[0, "a"]), "nodes[1].pos", "two finite numbers"),
        (lambda d: d["nodes"][1].update(color="red"), "nodes[1].color", "not a known node field"),
        (lambda d: d["nodes"][1].update(params=[]), "nodes[1].params", "must be an object"),
        (
            lambda d: d["nodes"][1]["params"].update(units=3),
            "nodes[1].params",
            "no parameter 'units'",
        ),
        (
            lambda d: d["nodes"][1]["params"].update(bias="yes"),
            "nodes[1].params.bias",
            "true or false",
        ),
        (lambda d: d["nodes"][0]["params"].update(shape=[0]), "nodes[0].params.shape", "positive"),
        (lambda d: d.update(edges=[{"src": "n1"}]), "edges[0].dst", "no node has the id None"),
        (lambda d: d["edges"].append({"src": "n9", "dst": "n2"}), "edges[2].src", "no node has"),
        (lambda d: d["edges"].append({"src": "n2", "dst": "n1"}), "edges[2]", "is an Input"),
        (lambda d: d["edges"].append({"src": "n2", "dst": "n2"}), "edges[2]", "cannot feed itself"),
        (lambda d: d["edges"].append(dict(d["edges"][0])), "edges[2]", "already wired"),
        (lambda d: d["edges"][0].update(port="0"), "edges[0].port", "non-negative integer"),
        (lambda d: d["edges"][0].update(port=3), "edges[0]", "has no input port 3"),
        (lambda d: d["edges"][0].update(weight=3), "edges[0]", "must be an object with src"),
        (lambda d: d.update(data=[]), "data", "must be an object"),
        (lambda d: d["data"].update(kind="sql"), "data.kind", "must be one of"),
        (lambda d: d["data"].update(kind="csv"), "data.path", "needs a path"),
        (lambda d: d["data"].update(val_fraction=2), "data.val_fraction", "between 0 and 0.9"),
        (lambda d: d["training"].update(lr=-1), "training.lr", "between"),
        (lambda d: d["training"].update(device="gpu"), "training.device", "auto, cpu, cuda"),
        (lambda d: d["training"].update(optimizer="Adamax"), "training.optimizer", "one of"),
        (lambda d: d["training"]["losses"].update(y={}), "training.losses.y", "no Output node"),
        (
            lambda d: d["training"]["losses"]["out"].update(loss="KL"),
            "training.losses.out.loss",
            "one of",
        ),
    ],
)
def test_bad_documents_name_what_and_where(tmp_path, mutate, where, message):
    doc = to_dict(small_project())
    mutate(doc)
    problems = problems_of(tmp_path, doc)
    assert any(w == where and message in m for w, m in problems), problems


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not valid JSON: Expecting value at line 1, column 1"),
        (b'{"schema_version": 1, "nodes": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not a text file"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": 1, "a": 2}', "the key 'a' appears twice"),
        (b'{"schema_version": NaN}', "NaN is not allowed"),
        (b'{"schema_version": 1' + b"9" * 5000 + b"}", "not valid JSON"),
        (b"[1, 2, 3]", "holds a JSON object, got list"),
        (b"null", "holds a JSON object, got NoneType"),
    ],
)
def test_garbage_and_hostile_bytes_are_reported_not_raised(tmp_path, raw, message):
    path = tmp_path / "bad.json"
    path.write_bytes(raw)
    with pytest.raises(ProjectError, match=message):
        load(path)


def test_truncated_files_of_every_length_are_clean_errors(tmp_path):
    raw = PRESETS[0].read_bytes()
    for cut in range(0, len(raw) - 2, 37):
        path = tmp_path / "cut.json"
        path.write_bytes(raw[:cut])
        with pytest.raises(ProjectError):
            load(path)


def test_custom_source_is_never_run_on_load(tmp_path):
    marker = tmp_path / "ran.txt"
    evil = f"open({str(marker)!r}, 'w').write('x')\nclass Affine(nn.Module):\n    pass\n"
    doc = to_dict(small_project())
    doc["nodes"][1] = {"id": "n2", "type": "Custom", "label": "c", "params": {"source": evil}}
    problems = problems_of(tmp_path, doc)
    assert problems[0] == (
        (
            "nodes[1].params.source",
            "line 1: only imports, classes, functions and constants may be at the top level of "
            "the source.",
        )
    )
    doc["nodes"][1]["params"]["source"] = (
        "class Affine(nn.Module):\n    def __init__(self):\n"
        f"        super().__init__()\n        open({str(marker)!r}, 'w')\n"
    )
    project = load(write(tmp_path / "q.json", doc))
    assert project.graph.nodes["n2"].type == "Custom"
    assert not marker.exists()


def test_missing_params_take_defaults(tmp_path):
    doc = to_dict(small_project())
    del doc["nodes"][1]["params"]["bias"]
    assert load(write(tmp_path / "p.json", doc)).graph.nodes["n2"].params["bias"] is True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(doc, prefix=()):
    yield prefix
    children = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    for key, value in children:
        yield from paths(value, (*prefix, key))


@settings(max_examples=300)
@given(data=st.data())
def test_any_mangled_document_loads_or_is_reported(data, tmp_path_factory):
    doc = json.loads(PRESETS[data.draw(st.integers(0, len(PRESETS) - 1))].read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(list(paths(doc))[1:]))
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        parent[where[-1]] = data.draw(json_values)
    path = tmp_path_factory.mktemp("fuzz") / "p.json"
    path.write_text(json.dumps(doc))
    try:
        load(path)
    except ProjectError as exc:
        assert exc.problems and all(isinstance(m, str) and m for _, m in exc.problems)
