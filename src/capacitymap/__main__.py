"""``python -m capacitymap``: the same command line as ``capacitymap``."""

from capacitymap.cli import main

main(prog_name="capacitymap")
