"""What the benchmark drivers share (run as scripts: bench/ is on sys.path)."""
import os


def read_config(build):
    values = {}
    with open(os.path.join(build, "tests", "config.bash")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                key, _, value = line.strip().partition("=")
                values[key] = value.strip("'")
    return values
