"""Making, ungrouping, forking and repeating blocks: each one undoable step."""

import pytest
import torch

from engine.document.block_edits import make_block, make_unique, repeat, ungroup
from engine.document.graph import GraphError
from engine.model.build import build_model
from engine.model.codegen import generate
from engine.model.shapes import infer_all
from tests.engine.graph_builders import chain, wire


def residual_graph():
    """x -> fc1 -> relu -> fc2 -> add(fc2, x) -> head -> out."""
    from engine.document.graph import Graph

    graph = Graph()
    x, fc1, relu, fc2 = chain(
        graph,
        ("Input", {"shape": [6]}),
        ("Linear", {"out_features": 6}),
        "ReLU",
        ("Linear", {"out_features": 6}),
    )
    add, *_ = chain(graph, "Add", ("Linear", {"out_features": 2}), "Output", start=fc2)
    wire(graph, x, add, 1)
    return graph, [fc1, relu, fc2, add]


def outputs(graph):
    built = build_model(graph, "net", seed=0)
    return built, built.module(torch.ones(3, 6))


def test_selected_layers_become_one_block_and_undo_restores_them():
    graph, layers = residual_graph()
    before = sorted(graph.edges)
    command, block = make_block(graph, layers, "Residual", [(layers[0], "out_features")])
    command.do(graph)
    (instance,) = [n for n in graph.nodes.values() if n.block is block]
    assert len(graph.nodes) == 4 and instance.params == {"out_features": 6}
    assert next(iter(block.graph.nodes.values())).type == "Input"
    assert infer_all(graph).results[instance.id].num_params == 2 * (36 + 6)
    source = generate(graph, "net").source
    assert "class Residual(nn.Module):" in source and "self.residual = Residual(6)" in source
    command.undo(graph)
    assert sorted(graph.edges) == before and set(layers) <= set(graph.nodes)


def test_a_selection_with_two_ways_out_is_refused():
    graph, layers = residual_graph()
    with pytest.raises(GraphError, match="a block has one output"):
        make_block(graph, layers[:1] + layers[2:3], "Two")  # fc1 feeds relu, fc2 feeds add


def test_ungroup_gives_back_the_layers_and_the_same_model():
    graph, layers = residual_graph()
    make, _ = make_block(graph, layers, "Residual")
    make.do(graph)
    _, grouped = outputs(graph)
    (instance,) = [n.id for n in graph.nodes.values() if n.block is not None]
    command = ungroup(graph, instance)
    command.do(graph)
    assert not any(n.block for n in graph.nodes.values()) and len(graph.nodes) == 7
    _, flat = outputs(graph)
    assert torch.equal(grouped, flat)
    command.undo(graph)
    assert graph.nodes[instance].block is not None


def test_make_unique_forks_one_instance_and_repeat_makes_a_stage():
    graph, layers = residual_graph()
    make, block = make_block(graph, layers, "Residual")
    make.do(graph)
    (instance,) = [n.id for n in graph.nodes.values() if n.block is block]
    fork = make_unique(graph, instance, "Residual2")
    fork.do(graph)
    assert graph.nodes[instance].block is not block and graph.nodes[instance].type == "Residual2"
    fork.undo(graph)
    assert graph.nodes[instance].block is block
    stage = repeat(graph, instance, 3, "ResidualStage")
    stage.do(graph)
    built, _ = outputs(graph)
    assert "class ResidualStage(nn.Sequential):" in built.code.source
    assert "residual.2.fc2.weight" in built.module.state_dict()
    stage.undo(graph)
    assert graph.nodes[instance].block is block


def test_a_copied_instance_pastes_as_an_instance_of_the_same_block():
    from engine.document.fragments import copy_fragment, paste_command

    graph, layers = residual_graph()
    make, block = make_block(graph, layers, "Residual")
    make.do(graph)
    (instance,) = [n.id for n in graph.nodes.values() if n.block is block]
    fragment = copy_fragment(graph, [instance])
    with pytest.raises(GraphError, match="does not hold Torchwright layers"):
        paste_command(graph, fragment)  # without the project's block types
    command, (pasted,) = paste_command(graph, fragment, blocks={"Residual": block})
    command.do(graph)
    assert graph.nodes[pasted].block is block and graph.nodes[pasted].label == "residual1"


def test_a_block_cannot_hold_a_custom_layer_yet():
    graph, layers = residual_graph()
    custom = graph.make_node("Custom")
    graph.insert_node(custom)
    wire(graph, layers[2], custom.id)
    with pytest.raises(GraphError, match="Custom layer, which a block cannot hold yet"):
        make_block(graph, [layers[0], layers[1], layers[2], custom.id], "WithCustom")


def test_a_frozen_layer_made_into_a_block_leaves_its_freezing_outside(tmp_path):
    from engine.document.project import Project, load, save

    graph, layers = residual_graph()
    graph.nodes[layers[0]].frozen = True
    make, block = make_block(graph, layers, "Residual")
    make.do(graph)
    assert not block.graph.nodes[layers[0]].frozen
    save(Project(graph=graph), tmp_path / "p.json")
    assert load(tmp_path / "p.json").graph.nodes.keys() == graph.nodes.keys()
    make.undo(graph)
    assert graph.nodes[layers[0]].frozen  # the layer put back is the one taken


def test_bad_names_and_parameters_are_refused_in_sentences():
    graph, layers = residual_graph()
    with pytest.raises(GraphError, match="has no parameter 'units' to expose"):
        make_block(graph, layers, "Residual", [(layers[0], "units")])
    with pytest.raises(GraphError, match="is a layer or block already"):
        make_block(graph, layers, "Linear")
    make, _ = make_block(graph, layers, "Residual")
    make.do(graph)
    instance = next(n.id for n in graph.nodes.values() if n.block is not None)
    with pytest.raises(GraphError, match="is not a class name"):
        repeat(graph, instance, 2, "not a name")
    with pytest.raises(GraphError, match="is a layer or block already"):
        make_unique(graph, instance, "Residual")
