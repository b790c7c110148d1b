"""The package's layers import only downward and its packages form no loop, counting every import (also those inside
functions): a module may import its own package, one of a lower layer or ``mrr_plugin`` itself (the registries)."""
import ast
import os
from os import path as osp

from tests.conftest import PROJECT_ROOT

PACKAGE = osp.join(PROJECT_ROOT, 'mrr_plugin')
# lower number = lower layer; README ("The package's layers") describes the same order
LAYERS = {
    'utils': 1, 'cli': 1,
    'archs': 2, 'data': 2, 'losses': 2, 'metrics': 2, 'compat': 2,
    'models': 3, 'preparation': 3, 'evaluation': 3,
    'pipelines': 4, 'restoration': 4, 'benchmark': 4, 'demo': 4,
    'train': 5, 'test': 5, 'restore': 5, 'export_onnx': 5,
}


def unit_of(module):
    """``mrr_plugin.data.face_lmdb`` -> ``data``; None for the package itself."""
    parts = module.split('.')
    return parts[1] if parts[0] == 'mrr_plugin' and len(parts) > 1 else None


def imports_by_unit():
    """``{unit: {(imported unit, 'file:line'), ...}}`` of every ``mrr_plugin`` import in the package's files."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            module = osp.relpath(path[:-3], PROJECT_ROOT).replace(os.sep, '.').removesuffix('.__init__')
            unit = unit_of(module)
            with open(path, encoding='utf-8') as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    targets = [node.module] + [f'{node.module}.{alias.name}' for alias in node.names
                                               if node.module == 'mrr_plugin']
                elif isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                else:
                    continue
                for target in targets:
                    if unit_of(target) not in (None, unit) and unit is not None:
                        found.setdefault(unit, set()).add((unit_of(target), f'{osp.relpath(path, PROJECT_ROOT)}:'
                                                                            f'{node.lineno}'))
    return found


def test_every_unit_has_a_layer():
    units = {osp.splitext(name)[0] for name in os.listdir(PACKAGE) if not name.startswith(('_', '.'))}
    assert units - {'__pycache__'} == set(LAYERS)


def test_no_import_points_upward():
    upward = sorted(f'{where}: {unit} (layer {LAYERS[unit]}) imports {target} (layer {LAYERS[target]})'
                    for unit, edges in imports_by_unit().items() for target, where in edges
                    if LAYERS[target] > LAYERS[unit])
    assert upward == []


def reachable(graph, start):
    """Every unit ``start`` imports, directly or through others."""
    reach, todo = set(), [start]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in reach:
                reach.add(target)
                todo.append(target)
    return reach


def test_no_loop_between_packages():
    graph = {unit: {target for target, _ in edges} for unit, edges in imports_by_unit().items()}
    assert sorted(unit for unit in graph if unit in reachable(graph, unit)) == []
