"""Command-line parsing for cpmp's Python tools (doctor, kernel): argparse,
with a usage error as one line on stderr and exit status 2."""

import argparse


class Usage(Exception):
    """A usage error: main() prints it as one line and returns 2."""


class Parser(argparse.ArgumentParser):
    """prog: the whole command ("cpmp doctor"); subcommands are Parsers too."""

    def __init__(self, prog, description=None, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(prog=prog, description=description, **kwargs)

    def error(self, message):
        # "cpmp: doctor: unrecognized arguments: --bogus (see 'cpmp doctor --help')"
        raise Usage("%s: %s (see '%s --help')" % (self.prog.partition(" ")[2], message,
                                                  self.prog))
