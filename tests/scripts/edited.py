"""A long job whose script is edited on disk while it runs (exact.bats):
the second Pool's spawned workers re-import the edited file."""
import multiprocessing


def job():
    with multiprocessing.get_context("spawn").Pool(2) as p:
        return p.map(lambda x: x + 1, [0, 1, 2])


if __name__ == "__main__":
    first = job()
    with open(__file__) as f:
        source = f.read()
    # An edit: lines added above, and the function changed (a git pull).
    with open(__file__, "w") as f:
        f.write("# edited\n# twice\n" + source.replace("x + 1", "x * 100"))
    print(first, job())
