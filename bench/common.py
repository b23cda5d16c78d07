"""What the benchmark drivers share (run as scripts: bench/ is on sys.path)."""
import argparse
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


def driver_args(doc, here):
    """The options of a driver that compares python3 with cpmp (--build,
    --repeat), parsed: (args, the build's python3, its cpmp)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(here, "..", "build"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = read_config(args.build)
    return args, config["CPMP_PYTHON"], os.path.join(config["CPMP_BUILD_ROOT"], "launcher", "cpmp")
