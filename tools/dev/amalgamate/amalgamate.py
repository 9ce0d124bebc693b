#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate single_include/nnmeter.hpp, the single-header amalgamation of nnmeter's core.

Starting at include/nnmeter.hpp, every ``#include <nnmeter/...>`` that resolves under include/
is replaced by the file's text, in the order the includes are first seen (so the result is a
topological order of the include graph). Repeated includes and ``#pragma once`` are dropped;
standard-library includes stay where they are. The opt-in support modules (nnmeter/io/**) and
the generated device tables (nnmeter/devices/**) are never inlined: reaching one from the core is
an error. The output is deterministic: LF line endings, no timestamps, no absolute paths.

Usage (from anywhere; paths default to this script's repository):
    python3 tools/dev/amalgamate/amalgamate.py            # (re)write single_include/nnmeter.hpp
    python3 tools/dev/amalgamate/amalgamate.py --check    # exit 1 if the committed file is stale
    python3 tools/dev/amalgamate/amalgamate.py --remap --output build/nnmeter_remap.hpp
                                                      # with #line directives, for coverage
Only the Python 3 standard library is used.
"""

import argparse
import difflib
import re
import sys
from pathlib import Path

REGEN_COMMAND = "python3 tools/dev/amalgamate/amalgamate.py"
CMAKE_COMMAND = "cmake --build build --target nnmeter_amalgamate"
UMBRELLA = "nnmeter.hpp"
OUTPUT = "single_include/nnmeter.hpp"
EXCLUDED_PREFIXES = ("nnmeter/io/", "nnmeter/devices/")
GUARD = "NNMETER_HPP"

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PRAGMA_ONCE_RE = re.compile(r"^\s*#\s*pragma\s+once\b")
GUARD_RE = re.compile(r"^\s*#\s*(?:ifndef\s+%s\b|if\s+!\s*defined\s*\(?\s*%s\b)" % (GUARD, GUARD))
VERSION_RE = re.compile(r"^\s*#\s*define\s+NNMETER_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)\b", re.M)


class AmalgamationError(Exception):
    """A problem with the input tree; reported as `amalgamate.py: error: ...`."""


def directive_lines(text):
    """Yield (index, line, is_code) for each line; is_code is False when the line starts inside
    a block comment or a raw string literal, where a '#include' is not a directive."""
    in_comment = False
    raw_end = None  # the ')delim"' that closes the raw string we are in
    for index, line in enumerate(text.split("\n")):
        yield index, line, not in_comment and raw_end is None
        i, n = 0, len(line)
        while i < n:
            if raw_end is not None:
                j = line.find(raw_end, i)
                if j < 0:
                    break
                i, raw_end = j + len(raw_end), None
                continue
            if in_comment:
                j = line.find("*/", i)
                if j < 0:
                    break
                i, in_comment = j + 2, False
                continue
            c = line[i]
            if line.startswith("//", i):
                break
            if line.startswith("/*", i):
                in_comment, i = True, i + 2
                continue
            if c == '"':
                prefix = re.search(r"(?:u8|u|U|L)?R$", line[:i])
                if prefix and (prefix.start() == 0 or not (line[prefix.start() - 1].isalnum()
                                                           or line[prefix.start() - 1] == "_")):
                    open_paren = line.find("(", i)
                    if open_paren < 0:  # malformed; treat as an ordinary string
                        raw_end = None
                    else:
                        raw_end = ")" + line[i + 1:open_paren] + '"'
                        i = open_paren + 1
                        continue
                i += 1
                while i < n and line[i] != '"':
                    i += 2 if line[i] == "\\" else 1
                i += 1
                continue
            if c == "'":
                if i > 0 and (line[i - 1].isalnum() or line[i - 1] == "_"):
                    i += 1  # digit separator (1'000) or the end of a prefix like u8'
                    continue
                i += 1
                while i < n and line[i] != "'":
                    i += 2 if line[i] == "\\" else 1
                i += 1
                continue
            i += 1


class Amalgamator:
    def __init__(self, root, remap=False):
        self.root = root
        self.include_dir = root / "include"
        self.remap = remap
        self.seen = set()  # canonical names, e.g. "nnmeter/ir/graph.hpp"
        self.order = []    # inlined files, first-seen order
        self.out = []

    def canonical(self, path):
        """Name of `path` relative to include/ with '/' separators, or None if outside it."""
        try:
            rel = path.resolve().relative_to(self.include_dir.resolve())
        except ValueError:
            return None
        return rel.as_posix()

    def resolve(self, delimiter, name, including):
        """Canonical name of an include to inline, or None to keep the line as it is."""
        if delimiter == "<":
            if name != UMBRELLA and not name.startswith("nnmeter/"):
                return None  # the standard library (the core may use nothing else)
            candidates = [self.include_dir / name]
        else:
            candidates = [(self.include_dir / including).parent / name, self.include_dir / name]
        for candidate in candidates:
            if candidate.is_file():
                canonical = self.canonical(candidate)
                if canonical is not None:
                    return canonical
        raise AmalgamationError(
            "include/%s includes %s%s%s, which does not resolve under include/"
            % (including, delimiter, name, ">" if delimiter == "<" else '"'))

    def emit(self, line=""):
        self.out.append(line)

    def expand(self, name, chain):
        self.seen.add(name)
        self.order.append(name)
        path = self.include_dir / name
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise AmalgamationError("include/%s is not UTF-8: %s" % (name, e))
        text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        if text.endswith("\n"):
            text = text[:-1]
        if self.remap:
            self.emit('#line 1 "include/%s"' % name)
        for index, line, is_code in directive_lines(text):
            line = line.rstrip()
            match = INCLUDE_RE.match(line) if is_code else None
            if is_code and PRAGMA_ONCE_RE.match(line):
                if self.remap:
                    self.emit()
                continue
            if match is None:
                self.emit(line)
                continue
            target = self.resolve(match.group(1), match.group(2), name)
            if target is None:
                self.emit(line)
                continue
            if target.startswith(EXCLUDED_PREFIXES):
                raise AmalgamationError(
                    "the core must not include opt-in or generated headers, but include/%s "
                    "includes <%s> (via %s); nnmeter/io/** and nnmeter/devices/** are excluded "
                    "from <nnmeter.hpp>" % (name, target, " -> ".join(chain + [name])))
            if target in self.seen:
                if self.remap:
                    self.emit()
                continue
            self.emit("// ---- begin %s ----" % target)
            self.expand(target, chain + [name])
            self.emit("// ---- end %s ----" % target)
            if self.remap:
                self.emit('#line %d "include/%s"' % (index + 2, name))

    def run(self):
        umbrella = self.include_dir / UMBRELLA
        if not umbrella.is_file():
            raise AmalgamationError("%s does not exist" % umbrella.relative_to(self.root))
        self.expand(UMBRELLA, [])
        body = self.out
        guards = sum(1 for line in body if GUARD_RE.match(line))
        if guards > 1:
            raise AmalgamationError("more than one '#ifndef %s' in the amalgamation" % GUARD)
        if guards == 0:  # keep exactly one classic guard, so both trees can coexist
            body = ["#ifndef " + GUARD, "#define " + GUARD] + body + ["#endif  // " + GUARD]
        return "\n".join(banner(read_version(self.include_dir), sorted(self.order)) + body) + "\n"

    def unreachable(self):
        """Core headers (not io/, devices/) that the umbrella does not reach: they are missing
        from the single header, against the rule that <nnmeter.hpp> is the whole core."""
        found = []
        for path in sorted((self.include_dir / "nnmeter").rglob("*.hpp")):
            name = self.canonical(path)
            if name and not name.startswith(EXCLUDED_PREFIXES) and name not in self.seen:
                found.append(name)
        return found


def read_version(include_dir):
    path = include_dir / "nnmeter" / "version.hpp"
    if not path.is_file():
        raise AmalgamationError("include/nnmeter/version.hpp does not exist")
    parts = dict(VERSION_RE.findall(path.read_text(encoding="utf-8")))
    if set(parts) != {"MAJOR", "MINOR", "PATCH"}:
        raise AmalgamationError(
            "include/nnmeter/version.hpp lacks NNMETER_VERSION_MAJOR/MINOR/PATCH")
    return "%s.%s.%s" % (parts["MAJOR"], parts["MINOR"], parts["PATCH"])


def banner(version, inputs):
    lines = [
        "// GENERATED by tools/dev/amalgamate/amalgamate.py -- do not edit; regenerate with:",
        "//   %s" % REGEN_COMMAND,
        "//   (or: %s)" % CMAKE_COMMAND,
        "//",
        "// nnmeter %s: single-header amalgamation of the dependency-free core, <nnmeter.hpp>."
        % version,
        "// The opt-in support modules <nnmeter/io/...> and the generated device tables",
        "// <nnmeter/devices/...> are not part of it. Do not mix this file with individual",
        "// <nnmeter/...> core headers in one translation unit.",
        "//",
        "// SPDX-License-Identifier: MIT",
        "// Copyright (c) 2026 the nnmeter authors",
        "//",
        "// Input files (under include/):",
    ]
    lines += ["//   %s" % name for name in inputs]
    lines.append("")
    return lines


def default_root():
    return Path(__file__).resolve().parents[3]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Generate single_include/nnmeter.hpp from include/nnmeter.hpp.")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the output file is missing or stale")
    parser.add_argument("--remap", action="store_true",
                        help="emit #line directives pointing back at include/ (coverage builds); "
                             "needs --output, the committed file never has them")
    parser.add_argument("--root", type=Path, default=None,
                        help="repository root (default: the repository holding this script)")
    parser.add_argument("--output", type=Path, default=None,
                        help="output file (default: <root>/%s)" % OUTPUT)
    args = parser.parse_args(argv)

    root = (args.root or default_root()).resolve()
    output = args.output if args.output is not None else root / OUTPUT
    if args.remap and (args.check or args.output is None):
        parser.error("--remap needs --output and cannot be combined with --check")

    amalgamator = Amalgamator(root, remap=args.remap)
    try:
        text = amalgamator.run()
    except AmalgamationError as e:
        print("amalgamate.py: error: %s" % e, file=sys.stderr)
        return 2
    missing = amalgamator.unreachable()
    if missing:
        print("amalgamate.py: note: not reachable from include/nnmeter.hpp, so not in the "
              "single header: %s" % ", ".join(missing), file=sys.stderr)

    current = output.read_bytes().decode("utf-8", "replace") if output.is_file() else None
    if args.check:
        if current == text:
            print("%s is up to date" % OUTPUT)
            return 0
        print("%s is stale: run `%s` (or %s)" % (OUTPUT, REGEN_COMMAND, CMAKE_COMMAND),
              file=sys.stderr)
        if current is None:
            print("(%s does not exist)" % output, file=sys.stderr)
        else:
            diff = list(difflib.unified_diff(
                current.splitlines(), text.splitlines(),
                "committed " + OUTPUT, "regenerated", lineterm="", n=1))
            shown = diff[:60]
            print("\n".join(shown), file=sys.stderr)
            if len(diff) > len(shown):
                print("... (%d more diff lines)" % (len(diff) - len(shown)), file=sys.stderr)
        return 1

    if current == text:
        print("%s is up to date" % output)
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print("wrote %s" % output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
