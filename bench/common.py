"""What the benchmark drivers share (run as scripts: bench/ is on sys.path)."""
import os


def read_config(build):
    values = {}
    with open(os.path.join(build, "tests", "config.bash")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                key, _, value = line.strip().partition("=")
                values[key] = value.strip("'")
    # "cpmp run" in every table is cpmp with the Python it embeds, the one
    # the table compares it with: not the first python3 on PATH, which
    # cpmp run would run otherwise (a pyenv shim, here).
    os.environ["CPMP_PYTHON"] = values["CPMP_PYTHON"]
    return values
