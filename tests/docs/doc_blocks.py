#!/usr/bin/env python3
"""Runs the code blocks of a Markdown page (README.md, docs/*.md) as a reader would, so they cannot drift.

    doc_blocks.py run PAGE --source DIR --build DIR --work DIR [--data DIR] [--module] [--stage NAME]
    doc_blocks.py extract PAGE NAME      prints the block marked `stage NAME`

With --stage NAME only the sh block marked `stage NAME` runs (a CI stage runs it that way), in a copy
of the tree without the build tree, as in a fresh checkout.

Every fenced block names its language: sh, python, c, cpp, cmake, text or yaml. The page's blocks run in
order in one folder, WORK/src, a copy of the source tree whose `build` is the real build tree and whose
`../shared/data` is the data folder, so a block may use what an earlier one wrote. sh blocks run under
bash -e; python blocks run in one namespace per page with the build tree's module importable; text
blocks (output, diagrams) and yaml blocks (configuration) are not run. Three commands are set up for
the page rather than run:
`apt-get install` checks that every package it names is one .ci/run installs, `dpkg
--add-architecture` does nothing, and `cmake -S . -B build ...` and `cmake --build build` do nothing
(the build tree is configured and built before the tests run); every other command is real.

A block may be preceded by directives, one HTML comment each (invisible on the rendered page):

    <!-- doc-test: replace "OLD" "NEW" -->  run with OLD replaced (OLD must occur): big data made tiny
    <!-- doc-test: file PATH -->            write the block to WORK/src/PATH instead of running it
    <!-- doc-test: continue -->             (python) reuse the previous python block's names
    <!-- doc-test: expect EXPRESSION -->    (python) afterwards EXPRESSION must be true
    <!-- doc-test: needs-data PATH -->      skipped when DATA/PATH is absent; python runs in DATA
    <!-- doc-test: same-as FILE -->         not run: the block must appear verbatim in FILE
    <!-- doc-test: paths -->                (text) the first word of each line is a path in the tree
    <!-- doc-test: stage NAME -->           run only by the CI stage that passes --stage NAME
    <!-- doc-test: skip REASON -->          not run, for the REASON given (printed)
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import traceback

LANGUAGES = {"sh", "python", "c", "cpp", "cmake", "text", "yaml"}
DIRECTIVE = re.compile(r"^<!-- doc-test: (\S+)(?: (.*?))? -->$")


class DocError(Exception):
    pass


class Block:
    def __init__(self, page, line, language, text, directives):
        self.page, self.line, self.language, self.text, self.directives = page, line, language, text, directives

    def where(self):
        return f"{self.page}:{self.line}"

    def values(self, name):
        return [arg for key, arg in self.directives if key == name]

    def has(self, name):
        return any(key == name for key, _ in self.directives)


def parse(path, shown):
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("```"):
            i += 1
            continue
        language = line[3:].strip()
        if language not in LANGUAGES:
            raise DocError(f"{shown}:{i + 1}: a code block must name its language, one of "
                           f"{', '.join(sorted(LANGUAGES))}; found '{language}'")
        directives, j = [], i - 1
        while j >= 0 and lines[j].startswith("<!-- doc-test:"):
            match = DIRECTIVE.match(lines[j])
            if not match:
                raise DocError(f"{shown}:{j + 1}: malformed directive: {lines[j]}")
            directives.insert(0, (match.group(1), match.group(2) or ""))
            j -= 1
        end = i + 1
        while end < len(lines) and lines[end] != "```":
            end += 1
        if end == len(lines):
            raise DocError(f"{shown}:{i + 1}: code block never closed")
        blocks.append(Block(shown, i + 1, language, "\n".join(lines[i + 1:end]) + "\n", directives))
        i = end + 1
    return blocks


def ci_packages(source):
    text = open(os.path.join(source, ".ci", "run"), encoding="utf-8").read()
    install = text[text.index("apt-get install"):]
    install = install[:install.index("\n\n")]
    return set(re.findall(r"(?<![-\w])([a-z0-9][a-z0-9+.-]+(?::arm64)?)(?![\w-])", install.replace("\\\n", " ")))


def make_shims(bin_dir, source, python):
    os.makedirs(bin_dir)
    cmake = shutil.which("cmake") or "cmake"
    packages = " ".join(sorted(ci_packages(source)))
    shims = {
        "apt-get": f"""#!/bin/sh
# doc test: packages are installed by .ci/run; check that the page asks for no other.
[ "$1" = install ] || exit 0
shift
status=0
for p in "$@"; do
  case "$p" in -*) continue;; esac
  case " {packages} " in *" $p "*) ;; *) echo "doc test: the page installs '$p', which .ci/run does not" >&2; status=1;; esac
done
exit $status
""",
        "dpkg": """#!/bin/sh
[ "$1" = --add-architecture ] && exit 0
exec /usr/bin/dpkg "$@"
""",
        "cmake": f"""#!/bin/sh
case " $* " in
  " -S . -B build "*|" --build build "*) echo "doc test: build/ is configured and built already: cmake $*"; exit 0;;
esac
exec {shlex.quote(cmake)} "$@"
""",
        "python3": f"""#!/bin/sh
exec {shlex.quote(python)} "$@"
""",
    }
    for name, text in shims.items():
        path = os.path.join(bin_dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)


def copy_tree(source, dest):
    top_level_ignored = {"build", ".git", ".device", "out"}

    def ignore(directory, names):
        ignored = {n for n in names if n == "__pycache__"}
        if os.path.abspath(directory) == os.path.abspath(source):
            ignored |= {n for n in names if n in top_level_ignored or n.startswith("build")}
        return ignored

    shutil.copytree(source, dest, ignore=ignore, symlinks=True)


def prepared(block):
    text = block.text
    for arg in block.values("replace"):
        parts = shlex.split(arg)
        if len(parts) != 2:
            raise DocError(f"{block.where()}: replace takes \"OLD\" \"NEW\", got: {arg}")
        old, new = parts
        if old not in text:
            raise DocError(f"{block.where()}: replace: '{old}' does not occur in the block")
        text = text.replace(old, new)
    return text


def check_paths(block, source):
    missing = []
    for line in block.text.splitlines():
        if not line or line[0].isspace():
            continue
        path = line.split()[0]
        if not os.path.exists(os.path.join(source, path)):
            missing.append(path)
    if missing:
        raise DocError(f"{block.where()}: paths that do not exist in the tree: {', '.join(missing)}")


def run_page(args):
    shown = os.path.relpath(args.page, args.source)
    blocks = parse(args.page, shown)
    work = os.path.abspath(args.work)
    if os.path.exists(work):
        shutil.rmtree(work)
    src = os.path.join(work, "src")
    copy_tree(args.source, src)
    if not args.stage:
        os.symlink(os.path.abspath(args.build), os.path.join(src, "build"))
    if args.data:
        os.makedirs(os.path.join(work, "shared"))
        os.symlink(os.path.abspath(args.data), os.path.join(work, "shared", "data"))
    bin_dir = os.path.join(work, "bin")
    make_shims(bin_dir, args.source, sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    env.pop("MAKEFLAGS", None)
    if args.module:
        sys.path.insert(0, os.path.join(os.path.abspath(args.build), "python"))
    namespace = None
    counts = {"ran": 0, "checked": 0, "skipped": 0}
    if args.stage and not any(args.stage in b.values("stage") for b in blocks):
        raise DocError(f"{shown}: no block marked `stage {args.stage}`")
    for block in blocks:
        label = f"{block.where()} ({block.language})"
        reason = None
        if args.stage:
            if args.stage not in block.values("stage"):
                continue
            block.directives = [d for d in block.directives if d[0] != "stage"]
        if block.has("skip"):
            reason = block.values("skip")[0]
            if not reason:
                raise DocError(f"{block.where()}: skip needs a reason")
        elif block.has("stage"):
            reason = f"run by the CI stage that extracts block '{block.values('stage')[0]}'"
        for data in block.values("needs-data"):
            if reason is None and not (args.data and os.path.exists(os.path.join(args.data, data))):
                reason = f"{data} is absent from the data folder"
        if reason is not None:
            print(f"SKIP  {label}: {reason}")
            counts["skipped"] += 1
            continue
        for name in block.values("same-as"):
            with open(os.path.join(args.source, name), encoding="utf-8") as f:
                if block.text.strip() not in f.read():
                    raise DocError(f"{block.where()}: the block does not appear verbatim in {name}")
            print(f"OK    {label}: as in {name}")
            counts["checked"] += 1
        if block.has("same-as"):
            continue
        if block.has("paths"):
            check_paths(block, args.source)
            print(f"OK    {label}: every path exists")
            counts["checked"] += 1
            continue
        for path in block.values("file"):
            target = os.path.join(src, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as f:
                f.write(prepared(block))
            print(f"FILE  {label}: written to {path}")
        if block.has("file") or block.language in ("text", "yaml"):
            continue
        if block.language in ("c", "cpp", "cmake"):
            raise DocError(f"{block.where()}: a {block.language} block needs `file PATH` (a later sh block builds it)")
        text = prepared(block)
        print(f"RUN   {label}", flush=True)
        if block.language == "sh":
            status = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], cwd=src, env=env).returncode
            if status != 0:
                raise DocError(f"{block.where()}: the sh block exited {status}:\n{text}")
        else:
            if not args.module:
                raise DocError(f"{block.where()}: a python block, but the Python module was not built")
            if not block.has("continue") or namespace is None:
                namespace = {"__name__": "__doc_block__"}
            here = os.getcwd()
            os.chdir(args.data if block.has("needs-data") else src)
            try:
                exec(compile(text, label, "exec"), namespace)
                for expression in block.values("expect"):
                    if not eval(expression, namespace):
                        raise DocError(f"{block.where()}: expected {expression}")
            except DocError:
                raise
            except Exception:
                raise DocError(f"{block.where()}: the python block raised:\n{traceback.format_exc()}")
            finally:
                os.chdir(here)
        counts["ran"] += 1
    print(f"{shown}: {counts['ran']} blocks ran, {counts['checked']} checked, {counts['skipped']} skipped, "
          f"{len(blocks)} in all")


def extract(args):
    for block in parse(args.page, args.page):
        if args.name in block.values("stage"):
            sys.stdout.write(block.text)
            return
    raise DocError(f"{args.page}: no block marked `stage {args.name}`")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("page")
    run.add_argument("--source", required=True)
    run.add_argument("--build", required=True)
    run.add_argument("--work", required=True)
    run.add_argument("--data")
    run.add_argument("--module", action="store_true", help="the Python module is built (build/python)")
    run.add_argument("--stage", help="run only the block marked `stage NAME`")
    get = commands.add_parser("extract")
    get.add_argument("page")
    get.add_argument("name")
    args = parser.parse_args()
    try:
        run_page(args) if args.command == "run" else extract(args)
    except DocError as e:
        print(f"FAIL  {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
