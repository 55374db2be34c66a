#!/usr/bin/env python3
"""Vietnamese text benchmark: detection accuracy of VietText per encoding over the labelled
fixtures (Tests/VietTextTests/Fixtures, encoded at run time into every encoding; short subjects
on their own), false conversions of the negatives (target 0), and toUnicode / detect throughput
on ~10 MB.

    Benchmarks/viet_detect.py [--fixtures DIR] [--western-only | --no-western]

Builds thugate-vietbench in release mode and prints its Markdown tables, then generates the
Western Latin-1 / Windows-1252 corpus (Benchmarks/western_corpus.py: gettext translations and
Debian's word lists, about 1.5 million samples) and prints its false conversions."""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=str(ROOT / "Tests/VietTextTests/Fixtures"))
    parser.add_argument("--scratch-path", default=None, help="SwiftPM scratch path (default .build)")
    parser.add_argument("--western-only", action="store_true", help="only the Western false-conversion corpus")
    parser.add_argument("--no-western", action="store_true", help="skip the Western corpus")
    args = parser.parse_args()
    build = ["swift", "build", "-c", "release", "--product", "thugate-vietbench"]
    if args.scratch_path:
        build += ["--scratch-path", args.scratch_path]
    subprocess.run(build, cwd=ROOT, check=True, stdout=sys.stderr)
    bin_path = subprocess.run(build + ["--show-bin-path"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    bench = str(Path(bin_path) / "thugate-vietbench")
    if not args.western_only:
        result = subprocess.run([bench, args.fixtures], check=True, capture_output=True, text=True)
        print(result.stdout, end="")
    if not args.no_western:
        with tempfile.TemporaryDirectory() as scratch:
            corpus = Path(scratch) / "western.tsv"
            subprocess.run([sys.executable, str(ROOT / "Benchmarks/western_corpus.py"), str(corpus)], check=True,
                           stderr=subprocess.DEVNULL)
            result = subprocess.run([bench, "--western", str(corpus)], check=True, capture_output=True, text=True)
            print("\n## Western Latin-1 / Windows-1252 text (must never be converted)\n")
            print(result.stdout, end="")


if __name__ == "__main__":
    main()
