"""The import graph of the cpmp package: every import of one of its
modules by another, at module level or inside a function, read from the
source.  Exits 1 naming each import that points up a layer, and each
circle, else prints the layers and exits 0.

    imports.py PACKAGE-DIR

Layers, lowest first: the settings (_config, _settings), the pickling
core (core/), the cluster backend (cluster/), the tools (tools/), the
package's face (__init__, _patch, _state).  A module imports only from
its own layer or below, and no module reaches itself again.
"""

import ast
import pathlib
import sys

LAYERS = ("settings", "core", "cluster", "tools", "face")
SETTINGS = {"_config", "_settings"}


def layer_of(name):
    first = name.split(".")[0]
    if first in ("core", "cluster", "tools"):
        return first
    return "settings" if first in SETTINGS else "face"


def modules(root):
    """{dotted name inside the package ("" for __init__): path}"""
    found = {}
    for path in sorted(root.rglob("*.py*")):
        if path.suffix not in (".py", ".in") or "__pycache__" in path.parts:
            continue
        if path.suffix == ".in" and not path.name.endswith(".py.in"):
            continue
        parts = list(path.relative_to(root).parts)
        parts[-1] = parts[-1].split(".")[0]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name, path, known):
    """The package modules name imports, with line numbers."""
    is_package = path.name == "__init__.py"
    package = name.split(".") if is_package else name.split(".")[:-1]
    package = [p for p in package if p]
    if path.suffix == ".in":
        return  # _config.py.in: Meson's template, which imports nothing
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1] if node.level > 1 else package
            prefix = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = (prefix + "." + alias.name).lstrip(".")
                if sub in known:
                    yield sub, node.lineno
                elif prefix in known:
                    yield prefix, node.lineno
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for full in names:
                if full and (full == "cpmp" or full.startswith("cpmp.")):
                    yield full[len("cpmp."):] if full != "cpmp" else "", node.lineno


def circles(graph):
    """Each circle of the graph, once (Tarjan's strongly connected parts)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1 or v in graph.get(v, ()):
                out.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(argv):
    root = pathlib.Path(argv[1])
    known = modules(root)
    graph, problems = {}, []
    for name, path in known.items():
        for target, line in imports_of(name, path, known):
            if target == name:
                continue
            graph.setdefault(name, set()).add(target)
            if LAYERS.index(layer_of(target)) > LAYERS.index(layer_of(name)):
                problems.append("%s:%d: %s (%s) imports %s (%s), a higher layer"
                                % (path.relative_to(root), line, name or "__init__",
                                   layer_of(name), target or "__init__", layer_of(target)))
    for part in circles(graph):
        problems.append("circle: " + " -> ".join(p or "__init__" for p in part))
    for line in problems:
        print(line)
    if problems:
        return 1
    for layer in LAYERS:
        print("%-8s %s" % (layer, " ".join(sorted(n or "__init__" for n in known
                                                    if layer_of(n) == layer))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
