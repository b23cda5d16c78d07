"""The README's sample outputs, run again (issue 19: they had gone stale).

    readme.py README CPMP BUILD_ROOT [--update]

A sample is a fenced block whose first line is `$ COMMAND`; the lines after
it are what COMMAND prints, stdout and stderr together.  Each COMMAND runs
in the README's directory under bash, with `cpmp` being CPMP.  What is
compared is normalised for what truly varies from one machine or run to
the next: the checkout's and the build's paths, pids and version numbers.
A sample naming an absolute path this machine lacks is skipped, and said.
Prints one line per mismatch (with a diff) or skip, then "checked N,
skipped M"; exits 1 on a mismatch.  --update writes what the commands print
now into the README instead.
"""
import difflib
import os
import re
import subprocess
import sys
import tempfile

FENCE = "```"


def samples(lines):
    """(index of the `$` line, command, index after the output) per sample."""
    found, i = [], 0
    while i < len(lines):
        if lines[i].strip() == FENCE and i + 1 < len(lines) and lines[i + 1].startswith("$ "):
            end = i + 2
            while end < len(lines) and lines[end].strip() != FENCE:
                end += 1
            found.append((i + 1, lines[i + 1][2:], end))
            i = end
        i += 1
    return found


def missing_path(command):
    for word in command.split():
        if word.startswith("/") and word != "/dev/null" and not os.path.exists(word):
            return word
    return None


def run(command, root, cpmp):
    with tempfile.TemporaryDirectory(prefix="cpmp-readme-") as bindir:
        os.symlink(cpmp, os.path.join(bindir, "cpmp"))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        done = subprocess.run(["bash", "-c", command], cwd=root, env=env, timeout=600,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    return done.stdout.decode("utf-8", "replace").rstrip("\n").split("\n")


def normalise(lines, exact):
    """exact: (string, placeholder) pairs, replaced first; then any other
    checkout's build directory and checkout (the README's own)."""
    text = "\n".join(lines)
    for string, placeholder in exact:
        text = text.replace(string, placeholder)
    text = re.sub(r"/[^\s()'\"`]*?/build(?=/)", "<build>", text)
    text = re.sub(r"/[^\s()'\"`]*?(?=/(tests|examples)/)", "<checkout>", text)
    text = re.sub(r"\bpid \d+", "pid N", text)
    text = re.sub(r"\b\d+\.\d+\.\d+\b", "X.Y.Z", text)
    return text.split("\n")


def main(argv):
    readme, cpmp, build_root = argv[1:4]
    update = "--update" in argv[4:]
    root = os.path.dirname(os.path.abspath(readme))
    exact = [(build_root, "<build>"), (root, "<checkout>")]
    with open(readme, encoding="utf-8") as f:
        lines = f.read().split("\n")
    checked = skipped = failed = 0
    for start, command, end in reversed(samples(lines)):
        absent = missing_path(command)
        if absent is not None:
            print("skipped: `%s`: no %s here" % (command, absent))
            skipped += 1
            continue
        got = run(command, root, cpmp)
        checked += 1
        if update:
            lines[start + 1:end] = got
            continue
        want, have = normalise(lines[start + 1:end], []), normalise(got, exact)
        if want != have:
            failed += 1
            print("differs: `%s` (README line %d)" % (command, start + 1))
            sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
                want, have, "README.md", "now", lineterm=""))
    if update:
        with open(readme, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    print("checked %d, skipped %d" % (checked, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
