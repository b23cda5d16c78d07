"""The size targets of the product's code (lint.bats): no C or Python file
of the product over MAX_FILE lines, no function over MAX_FUNCTION.

    sizes.py ROOT   prints one line per file or function over its target
"""
import ast
import os
import re
import sys

MAX_FILE, MAX_FUNCTION = 400, 60
PRODUCT = ("common", "launcher", "preload", "pyhook")


def c_functions(lines):
    """(name, length) of each function: from its name's line to the closing
    brace in column 0, as the house style lays them out."""
    start = name = None
    for i, line in enumerate(lines):
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\(", line)
        if m and start is None:
            start, name = i, m.group(1)
        elif line.startswith("}") and start is not None:
            yield name, i - start + 1
            start = None


def py_functions(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.end_lineno - node.lineno + 1


def main(root):
    over = []
    for top in PRODUCT:
        for folder, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".c", ".h", ".py")):
                    continue
                path = os.path.join(folder, name)
                with open(path) as f:
                    source = f.read()
                lines = source.splitlines()
                rel = os.path.relpath(path, root)
                if len(lines) > MAX_FILE:
                    over.append("%s: %d lines" % (rel, len(lines)))
                functions = py_functions(source) if name.endswith(".py") else c_functions(lines)
                for func, length in functions:
                    if length > MAX_FUNCTION:
                        over.append("%s: %s() is %d lines" % (rel, func, length))
    for line in over:
        print(line)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
