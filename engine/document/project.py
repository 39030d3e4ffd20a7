"""Project files: the graph, the data settings and the training settings in one JSON
document with a `schema_version`.

Loading validates everything and reports the first problems with their location
(`nodes[3].params.out_features: must be a positive integer, got -1`). Nothing in a file
is executed on load: a Custom layer's source is only parsed. Saving is atomic: the data
goes to a temporary file beside the target, which then replaces it in one step, so the
old file survives any failure.
"""

from __future__ import annotations

import errno
import json
import keyword
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.document.blocks import (
    BlockParam,
    BlockType,
    blocks_of,
    check_block,
    dependency_order,
)
from engine.document.files import atomic_write_text, json_text
from engine.document.graph import (
    MAX_LR_SCALE,
    Edge,
    Graph,
    GraphError,
    Node,
    check_params,
    python_name,
)
from engine.document.settings import (
    AUGMENT_SCHEMA,
    DATA_SCHEMA,
    LOSS_SCHEMA,
    TRAINING_SCHEMA,
    defaults,
    validate_data,
    validate_training,
)
from engine.errors import UserError
from engine.layers import CATALOG, LayerSpec
from engine.layers.params import show

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 20_000_000
MAX_NODES = 5000
MAX_PROBLEMS = 10
TOP_LEVEL = (
    "schema_version",
    "name",
    "description",
    "pretrained",
    "blocks",
    "nodes",
    "edges",
    "data",
    "training",
    "ui",
)
BLOCK_FIELDS = {"name", "summary", "sequential", "params", "nodes", "edges"}


class ProjectError(UserError):
    """A project file that is not valid: `problems` lists (location, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems[:MAX_PROBLEMS]
        text = "; ".join(f"{where}: {what}" if where else what for where, what in self.problems)
        more = len(problems) - len(self.problems)
        super().__init__(text + (f" (and {more} more)" if more > 0 else ""))


@dataclass
class Project:
    name: str = "Untitled"
    description: str = ""
    graph: Graph = field(default_factory=Graph)
    data: dict[str, Any] = field(default_factory=lambda: defaults(DATA_SCHEMA + AUGMENT_SCHEMA))
    training: dict[str, Any] = field(
        default_factory=lambda: {**defaults(TRAINING_SCHEMA), "losses": {}}
    )
    ui: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    # The project's block types by name: those its graph uses and those kept for later.
    blocks: dict[str, BlockType] = field(default_factory=dict)
    # Published weights the model can start from: {"url": ..., "about": ...} (a zoo preset's).
    pretrained: dict[str, str] = field(default_factory=dict)

    def output_labels(self) -> list[str]:
        return [n.label for n in self.graph.nodes.values() if n.is_output]

    def losses(self) -> dict[str, dict[str, Any]]:
        """Loss settings for every Output, defaults for those not set."""
        return {
            label: self.training["losses"].get(label, defaults(LOSS_SCHEMA))
            for label in self.output_labels()
        }


# --- writing -----------------------------------------------------------------------------


def to_dict(project: Project) -> dict[str, Any]:
    training = {k: v for k, v in project.training.items() if k != "losses"}
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "name": project.name,
        "description": project.description,
    }
    if project.pretrained:
        doc["pretrained"] = project.pretrained
    blocks = dependency_order([*project.blocks.values(), *blocks_of(project.graph)])
    if blocks:
        doc["blocks"] = [_block_dict(block) for block in blocks]
    doc.update(_graph_dict(project.graph))
    doc["data"] = project.data
    doc["training"] = {**training, "losses": project.losses()}
    if project.ui:
        doc["ui"] = project.ui
    return doc


def _node_dict(node: Node) -> dict[str, Any]:
    doc = {
        "id": node.id,
        "type": node.type,
        "label": node.label,
        "params": node.params,
        "pos": [node.pos[0], node.pos[1]],
    }
    if node.frozen:
        doc["frozen"] = True
    if node.lr_scale != 1.0:
        doc["lr_scale"] = node.lr_scale
    return doc


def _graph_dict(graph: Graph) -> dict[str, list]:
    return {
        "nodes": [_node_dict(n) for n in graph.nodes.values()],
        "edges": [{"src": e.src, "dst": e.dst, "port": e.port} for e in sorted(graph.edges)],
    }


def _block_dict(block: BlockType) -> dict[str, Any]:
    params = [
        {"name": p.name, "default": p.default, "targets": [list(t) for t in p.targets]}
        | ({"help": p.help} if p.help else {})
        for p in block.params
    ]
    return {
        "name": block.name,
        "summary": block.summary,
        "sequential": block.sequential,
        "params": params,
        **_graph_dict(block.graph),
    }


def save(project: Project, path: str | os.PathLike) -> None:
    """Write the project atomically; on any failure the previous file is left intact."""
    text = json_text(to_dict(project))
    project.path = atomic_write_text(path, text)


# --- reading -----------------------------------------------------------------------------


def load(path: str | os.PathLike) -> Project:
    """Read and validate a project file.

    Raises OSError if the file cannot be read, ProjectError if it is not a valid project.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a project file")
    if path.exists() and not path.is_file():  # a pipe or a device would block or never end
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    with path.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ProjectError([("", f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB")])
    project = from_dict(parse_json(raw))
    project.path = path
    return project


MAX_DEPTH = 64  # levels of lists and objects in a project file


def parse_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectError([("", f"not a text file (byte {exc.start} is not UTF-8)")]) from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ProjectError(
            [("", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from None
    except RecursionError:
        raise ProjectError([("", "not a project: the JSON is nested too deeply")]) from None
    except ValueError as exc:
        raise ProjectError([("", f"not valid JSON: {exc}")]) from None
    if _deeper_than(value, MAX_DEPTH):
        # Python reads a few hundred levels, but writing them back would not fit its stack.
        raise ProjectError(
            [("", f"not a project: the JSON is nested over {MAX_DEPTH} levels deep")]
        )
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects in `value` nest more than `limit` levels (no recursion)."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        if not level:
            return False
        level = [
            item
            for container in level
            for item in (container.values() if isinstance(container, dict) else container)
            if isinstance(item, dict | list)
        ]
    return bool(level)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {show(key)} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


def from_dict(doc: Any) -> Project:
    """Build a Project from a parsed document, or raise ProjectError listing problems."""
    reader = _Reader()
    project = reader.read(doc)
    if reader.problems:
        raise ProjectError(reader.problems)
    return project


class _Reader:
    def __init__(self):
        self.problems: list[tuple[str, str]] = []
        self.invalid_ids: set[str] = set()  # nodes already reported; their wires are skipped
        self.blocks: dict[str, BlockType] = {}  # those read so far, which later ones may use

    def fail(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def read(self, doc: Any) -> Project:
        project = Project()
        if not isinstance(doc, dict):
            self.fail("", f"a project file holds a JSON object, got {type(doc).__name__}")
            return project
        version = doc.get("schema_version")
        if version != SCHEMA_VERSION:
            if (
                isinstance(version, int)
                and not isinstance(version, bool)
                and version > SCHEMA_VERSION
            ):
                self.fail(
                    "schema_version",
                    f"{version} is from a newer Torchwright; this one "
                    f"reads version {SCHEMA_VERSION}",
                )
            else:
                self.fail("schema_version", f"must be {SCHEMA_VERSION}, got {show(version)}")
            return project
        for key in doc:
            if key not in TOP_LEVEL:
                self.fail(key, "is not a known part of a project file")
        project.name = self._text(doc, "name", "Untitled")
        if "\x00" in project.name:  # no file name or Python string holds it: export would fail
            self.fail("name", "must not hold a NUL character")
        project.description = self._text(doc, "description", "")
        project.pretrained = self._pretrained(doc.get("pretrained", {}))
        self._blocks(doc.get("blocks", []))
        project.blocks = dict(self.blocks)
        self._nodes(doc.get("nodes", []), project.graph, "nodes")
        self._edges(doc.get("edges", []), project.graph, "edges")
        project.data, problems = validate_data(doc.get("data", {}))
        self.problems += problems
        project.training, problems = validate_training(
            doc.get("training", {}), project.output_labels()
        )
        self.problems += problems
        ui = doc.get("ui", {})
        project.ui = ui if isinstance(ui, dict) else {}
        return project

    def _text(self, doc: dict, key: str, default: str) -> str:
        value = doc.get(key, default)
        if not isinstance(value, str) or len(value) > 10_000:
            self.fail(key, f"must be text of at most 10,000 characters, got {show(value)}")
            return default
        return value

    def _pretrained(self, value: Any) -> dict[str, str]:
        fields = {"url", "about"}
        if value == {}:
            return {}
        if (
            not isinstance(value, dict)
            or set(value) != fields
            or not all(isinstance(v, str) and len(v) <= 2000 for v in value.values())
            or not value["url"].startswith(("https://", "http://"))
        ):
            self.fail(
                "pretrained",
                f"must be an object with a url (http or https) and an about text, got "
                f"{show(value)}",
            )
            return {}
        return dict(value)

    def _blocks(self, blocks: Any) -> None:
        if not isinstance(blocks, list):
            self.fail("blocks", f"must be a list, got {show(blocks)}")
            return
        for i, item in enumerate(blocks):
            where = f"blocks[{i}]"
            if not isinstance(item, dict):
                self.fail(where, f"must be an object, got {show(item)}")
                continue
            if unknown := sorted(set(item) - BLOCK_FIELDS):
                self.fail(f"{where}.{unknown[0]}", "is not a known field of a block")
            block = self._block(item, where)
            if block is not None:
                self.blocks[block.name] = block

    def _block(self, item: dict, where: str) -> BlockType | None:
        name = item.get("name")
        if not isinstance(name, str) or name in CATALOG or name in self.blocks:
            taken = "is a layer or block already" if isinstance(name, str) else "must be text"
            self.fail(f"{where}.name", f"{show(name)} {taken}")
            return None
        before = len(self.problems)
        graph = Graph()
        self.invalid_ids = set()
        self._nodes(item.get("nodes", []), graph, f"{where}.nodes")
        self._edges(item.get("edges", []), graph, f"{where}.edges")
        self.invalid_ids = set()
        params = self._block_params(item.get("params", []), f"{where}.params")
        summary, sequential = item.get("summary", ""), item.get("sequential", False)
        if not isinstance(summary, str) or len(summary) > 10_000:
            self.fail(f"{where}.summary", f"must be text, got {show(summary)}")
        if not isinstance(sequential, bool):
            self.fail(f"{where}.sequential", f"must be true or false, got {show(sequential)}")
        if len(self.problems) > before:
            return None
        block = BlockType(name, graph, params, sequential, summary)
        for problem in check_block(block, self.blocks):
            self.fail(where, problem)
        return None if len(self.problems) > before else block

    def _block_params(self, params: Any, where: str) -> tuple[BlockParam, ...]:
        out = []
        if not isinstance(params, list):
            self.fail(where, f"must be a list, got {show(params)}")
            return ()
        for i, item in enumerate(params):
            targets = item.get("targets") if isinstance(item, dict) else None
            ok = (
                isinstance(item, dict)
                and set(item) <= {"name", "default", "targets", "help"}
                and isinstance(item.get("name"), str)
                and isinstance(item.get("help", ""), str)
                and isinstance(targets, list)
                and all(
                    isinstance(t, list) and len(t) == 2 and all(isinstance(v, str) for v in t)
                    for t in targets
                )
            )
            if not ok:
                self.fail(
                    f"{where}[{i}]",
                    "must be an object with a name, a default and targets "
                    f"([node id, parameter] pairs), got {show(item)}",
                )
                continue
            pairs = tuple((t[0], t[1]) for t in targets)
            out.append(BlockParam(item["name"], item.get("default"), pairs, item.get("help", "")))
        return tuple(out)

    def _nodes(self, nodes: Any, graph: Graph, where: str) -> None:
        if not isinstance(nodes, list):
            self.fail(where, f"must be a list, got {show(nodes)}")
            return
        if len(nodes) > MAX_NODES:
            self.fail(where, f"has {len(nodes)} nodes; at most {MAX_NODES} are supported")
            return
        for i, item in enumerate(nodes):
            node = self._node(item, f"{where}[{i}]", graph)
            if node is not None:
                graph.insert_node(node)
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                self.invalid_ids.add(item["id"])

    def _node(self, item: Any, where: str, graph: Graph) -> Node | None:
        if not isinstance(item, dict):
            self.fail(where, f"must be an object, got {show(item)}")
            return None
        tuning = {"frozen", "lr_scale"} if where.startswith("nodes") else set()
        unknown = set(item) - {"id", "type", "label", "params", "pos", *tuning}
        if unknown:
            self.fail(f"{where}.{sorted(unknown)[0]}", "is not a known node field")
        node_id, layer_type, label = item.get("id"), item.get("type"), item.get("label")
        if not isinstance(node_id, str) or not 1 <= len(node_id) <= 64:
            self.fail(f"{where}.id", f"must be text of 1 to 64 characters, got {show(node_id)}")
            return None
        if node_id in graph.nodes:
            self.fail(f"{where}.id", f"{node_id!r} is used by another node")
            return None
        if not isinstance(layer_type, str) or (
            layer_type not in CATALOG and layer_type not in self.blocks
        ):
            self.fail(f"{where}.type", f"unknown layer type {show(layer_type)}")
            return None
        block = self.blocks.get(layer_type)
        spec = CATALOG[layer_type] if block is None else block.spec
        if (
            not isinstance(label, str)
            or not label.isidentifier()
            or keyword.iskeyword(label)
            or len(label) > 64
        ):
            self.fail(
                f"{where}.label", f"must be a Python name (letters, digits, _), got {show(label)}"
            )
            return None
        if label in graph.labels():
            self.fail(f"{where}.label", f"{label!r} is used by another node")
            return None
        same = [n for n in graph.nodes.values() if python_name(n.label) == python_name(label)]
        if same:
            self.fail(
                f"{where}.label",
                f"{label!r} is the same Python name as node {same[0].id!r}'s label "
                f"{same[0].label!r} (Python reads them alike, NFKC): rename one",
            )
            return None
        params = self._params(item.get("params", {}), spec, f"{where}.params")
        pos = self._pos(item.get("pos", [0, 0]), f"{where}.pos")
        frozen, lr_scale = item.get("frozen", False), item.get("lr_scale", 1.0)
        if not isinstance(frozen, bool):
            self.fail(f"{where}.frozen", f"must be true or false, got {show(frozen)}")
            return None
        if (
            not isinstance(lr_scale, int | float)
            or isinstance(lr_scale, bool)
            or not 0 < lr_scale <= MAX_LR_SCALE
        ):
            self.fail(
                f"{where}.lr_scale",
                f"must be a number above 0 and at most {MAX_LR_SCALE:g}, got {show(lr_scale)}",
            )
            return None
        if params is None or pos is None:
            return None
        return Node(node_id, layer_type, params, label, pos, block, frozen, float(lr_scale))

    def _params(self, params: Any, spec: LayerSpec, where: str) -> dict | None:
        if not isinstance(params, dict):
            self.fail(where, f"must be an object, got {show(params)}")
            return None
        ok = True
        values = spec.defaults()
        for name, value in params.items():
            try:
                values.update(check_params(spec, {name: value}))
            except GraphError as exc:
                message = str(exc).removeprefix(f"{name}: ")
                self.fail(f"{where}.{name}" if name in spec.param_names else where, message)
                ok = False
        if ok and spec.check is not None and (problem := spec.check(values)):
            self.fail(f"{where}.source", problem)
            ok = False
        return values if ok else None

    def _pos(self, pos: Any, where: str) -> tuple[float, float] | None:
        if (
            isinstance(pos, list)
            and len(pos) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos)
            and all(math.isfinite(v) and abs(v) < 1e9 for v in pos)
        ):
            return float(pos[0]), float(pos[1])
        self.fail(where, f"must be two finite numbers [x, y], got {show(pos)}")
        return None

    def _edges(self, edges: Any, graph: Graph, at: str) -> None:
        if not isinstance(edges, list):
            self.fail(at, f"must be a list, got {show(edges)}")
            return
        for i, item in enumerate(edges):
            where = f"{at}[{i}]"
            if not isinstance(item, dict) or set(item) - {"src", "dst", "port"}:
                self.fail(where, f"must be an object with src, dst and port, got {show(item)}")
                continue
            src, dst, port = item.get("src"), item.get("dst"), item.get("port", 0)
            ends = [v if isinstance(v, str) else "" for v in (src, dst)]
            if set(ends) & self.invalid_ids:
                continue
            missing = [k for k, v in zip(("src", "dst"), ends, strict=True) if v not in graph.nodes]
            if missing:
                key = missing[0]
                self.fail(f"{where}.{key}", f"no node has the id {show(item.get(key))}")
                continue
            if not isinstance(port, int) or isinstance(port, bool):
                self.fail(f"{where}.port", f"must be a non-negative integer, got {show(port)}")
                continue
            try:
                graph.insert_edge(Edge(src, dst, port))
            except GraphError as exc:
                self.fail(where, str(exc))
