"""`python main.py check FILE...`: validate project files, one line per file.

Exit status: 0 all valid, 1 some invalid, 2 some could not be read at all.
"""

from __future__ import annotations

from pathlib import Path

from engine.document.project import Project, ProjectError, load
from engine.model.shapes import infer_all
from engine.training.preflight import Reason, graph_problems

OK, INVALID, UNREADABLE = 0, 1, 2


def model_problems(project: Project) -> list[str]:
    """Shape and wiring problems, located by node (custom code is not run)."""
    graph = project.graph
    order = list(graph.nodes)
    problems = []
    for problem in graph_problems(project, infer_all(graph)):
        if problem.reason in (Reason.CUSTOM_NOT_ALLOWED, Reason.WAITS_FOR_DATA):
            continue  # check never runs Custom code nor reads the data: no fault
        if problem.node_id is None:
            problems.append(problem.message)
        else:
            node = graph.nodes[problem.node_id]
            problems.append(f"nodes[{order.index(node.id)}] '{node.label}': {problem.message}")
    return problems


def check_file(path: Path) -> tuple[int, str]:
    """(status, message) for one file."""
    if not path.exists():
        return UNREADABLE, "cannot read: no such file"
    if not path.is_file():
        return UNREADABLE, "cannot read: not a regular file"
    try:
        project = load(path)
    except ProjectError as exc:
        return INVALID, str(exc)
    except OSError as exc:
        return UNREADABLE, f"cannot read: {exc.strerror or exc}"
    problems = model_problems(project)
    if problems:
        return INVALID, "; ".join(problems[:5])
    return OK, "ok"


def run(files: list[str]) -> int:
    worst = OK
    for name in files:
        try:
            status, message = check_file(Path(name))
        except Exception as exc:  # a bug of ours must not hide the other files' results
            status, message = INVALID, f"could not be checked ({type(exc).__name__}: {exc})"
        print(f"{name}: {message}", flush=True)
        worst = max(worst, status)
    return worst
