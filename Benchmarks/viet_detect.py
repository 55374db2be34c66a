#!/usr/bin/env python3
"""Vietnamese text benchmark: detection accuracy of VietText per encoding over the labelled
fixtures (Tests/VietTextTests/Fixtures, encoded at run time into every encoding; short subjects
on their own), false conversions of the negatives (target 0), and toUnicode / detect throughput
on ~10 MB.

    Benchmarks/viet_detect.py [--fixtures DIR]

Builds thugate-vietbench in release mode and prints its Markdown table."""
import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=str(ROOT / "Tests/VietTextTests/Fixtures"))
    parser.add_argument("--scratch-path", default=None, help="SwiftPM scratch path (default .build)")
    args = parser.parse_args()
    build = ["swift", "build", "-c", "release", "--product", "thugate-vietbench"]
    if args.scratch_path:
        build += ["--scratch-path", args.scratch_path]
    subprocess.run(build, cwd=ROOT, check=True, stdout=sys.stderr)
    bin_path = subprocess.run(build + ["--show-bin-path"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    result = subprocess.run([str(Path(bin_path) / "thugate-vietbench"), args.fixtures], check=True,
                            capture_output=True, text=True)
    print(result.stdout, end="")


if __name__ == "__main__":
    main()
