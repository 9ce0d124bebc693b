#!/usr/bin/env python3
"""Checks that every README code block marked `<!-- quick-start: FILE ... -->` equals FILE
(without FILE's leading comment lines), so the README's quick start is the example that ctest
compiles and runs. Exit status 1 with a diff when they differ.

Usage: tools/dev/check_readme/check_readme.py [README.md]
SPDX-License-Identifier: MIT
"""
import difflib
import pathlib
import re
import sys


def main() -> int:
    root = pathlib.Path(__file__).resolve().parents[3]
    readme = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "README.md"
    text = readme.read_text(encoding="utf-8")
    marks = list(re.finditer(r"<!-- quick-start: (\S+)[^>]*-->\s*```cpp\n(.*?)```", text, re.S))
    if not marks:
        print(f"{readme}: no quick-start block found")
        return 1
    status = 0
    for m in marks:
        source = root / m.group(1)
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        while lines and lines[0].startswith("//"):
            lines.pop(0)
        expected = "".join(lines)
        if m.group(2) != expected:
            status = 1
            print(f"{readme}: the quick-start block differs from {m.group(1)}:")
            sys.stdout.writelines(difflib.unified_diff(
                expected.splitlines(keepends=True), m.group(2).splitlines(keepends=True),
                fromfile=m.group(1), tofile="README.md"))
    if status == 0:
        print(f"{readme}: {len(marks)} quick-start block(s) match their files")
    return status


if __name__ == "__main__":
    sys.exit(main())
