#!/usr/bin/env python3
"""check_benchmark_refs: the repository stands on its own; its references to docs/benchmarks.md hold.

Fails when
  - the name of the specification this project was first written from, as a capitalised word,
    appears in a text file of the repository: the project's own definition is docs/benchmarks.md,
    and every mention points there instead;
  - a reference to a section of docs/benchmarks.md (the page name, '#', an anchor), in any text
    file (README, docs, code comments, strings, scripts), names an anchor the page does not
    define; the anchors are the explicit <a id="..."> / <a name="..."> tags and the headings'
    anchors as GitHub computes them;
  - a Markdown link to benchmarks.md does not lead to docs/benchmarks.md from the page it is in;
  - a link inside docs/benchmarks.md to one of its own sections ("](#...)") is broken.

The files: `git ls-files --cached --others --exclude-standard` (tracked files and new files that
are not ignored) when the source tree is a git checkout, else every file under it except .git/
and build*/. Binary files (a NUL byte, or not UTF-8) are skipped.

    check_benchmark_refs.py SOURCE_ROOT
"""
import os
import re
import subprocess
import sys

PAGE = "docs/benchmarks.md"
# Built from pieces so that this file does not contain the word it looks for.
FORBIDDEN = re.compile(r"\b" + "S" + "PEC" + r"\b")
REFERENCE = re.compile(r"benchmarks\.md#([\w-]*)")
MD_LINK = re.compile(r"\]\(([^)\s#]*benchmarks\.md)(?:#[^)\s]*)?\)")
SELF_LINK = re.compile(r"\]\(#([^)\s]*)\)")
EXPLICIT_ANCHOR = re.compile(r"<a\s+(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def repository_files(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True).stdout
        files = [f for f in out.decode("utf-8").split("\0") if f]
        if files:
            return sorted(f for f in files if os.path.isfile(os.path.join(root, f)))
    except (OSError, subprocess.CalledProcessError, UnicodeDecodeError):
        pass
    files = []
    for directory, subdirs, names in os.walk(root):
        rel = os.path.relpath(directory, root)
        subdirs[:] = [d for d in subdirs
                      if d != ".git" and not (rel == "." and d.startswith("build"))]
        files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    return sorted(f.replace(os.sep, "/") for f in files)


def text_of(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def github_slug(heading):
    """The anchor GitHub gives a heading: inline markup dropped, lower case, punctuation removed,
    spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading)                       # inline HTML
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)       # links and images: their text
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(page_text):
    anchors = set(EXPLICIT_ANCHOR.findall(page_text))
    seen = {}
    in_fence = False
    for line in page_text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        m = None if in_fence else HEADING.match(line)
        if not m:
            continue
        slug = github_slug(m.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def main(argv):
    if len(argv) != 2:
        print("usage: check_benchmark_refs.py SOURCE_ROOT", file=sys.stderr)
        return 2
    root = argv[1]
    page_path = os.path.join(root, PAGE)
    if not os.path.isfile(page_path):
        print(f"{PAGE} does not exist", file=sys.stderr)
        return 1
    anchors = anchors_of(text_of(page_path))
    errors = 0
    files = repository_files(root)
    references = 0
    for rel in files:
        text = text_of(os.path.join(root, rel))
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for m in FORBIDDEN.finditer(line):
                print(f"{rel}:{number}: '{m.group(0)}': the repository's own definition is {PAGE}; "
                      f"point to it (or one of its sections) instead", file=sys.stderr)
                errors += 1
            for m in REFERENCE.finditer(line):
                references += 1
                anchor = m.group(1)
                if anchor not in anchors:
                    print(f"{rel}:{number}: '{m.group(0)}': {PAGE} has no section with the anchor "
                          f"'{anchor}' (it has: {', '.join(sorted(anchors))})", file=sys.stderr)
                    errors += 1
            if rel.endswith(".md"):
                for m in MD_LINK.finditer(line):
                    target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1)))
                    if target.replace(os.sep, "/") != PAGE:
                        print(f"{rel}:{number}: the link '{m.group(1)}' leads to '{target}', not {PAGE}",
                              file=sys.stderr)
                        errors += 1
            if rel == PAGE:
                for m in SELF_LINK.finditer(line):
                    if m.group(1) not in anchors:
                        print(f"{rel}:{number}: the link '#{m.group(1)}' names no section of this page",
                              file=sys.stderr)
                        errors += 1
    print(f"{len(files)} files, {references} references to {PAGE} sections, {len(anchors)} anchors, "
          f"{errors} errors")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
