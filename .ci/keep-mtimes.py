#!/usr/bin/env python3
"""Gives every file of a fresh clone that is byte-for-byte the file the previous CI run had
the modification time it had then.

Cargo decides whether a workspace crate must be compiled again by comparing its source files'
modification times with those of its last build. A fresh clone stamps every file with the time
of the clone, so without this every workspace crate (engine, app, server, ...) compiles again
in every CI run, even when the change touched one of them.

The record is kept in the cargo target folder, beside the builds it describes, as one line per
tracked file: git's blob id, the modification time in nanoseconds, the path. A file whose blob
id matches its record gets the recorded time back; any other file keeps the clone's time, which
is later than every build in the folder, so cargo compiles what it is part of. The record is
then rewritten with what the clone has now, before anything is built: a build that fails half
way leaves a record whose new files are still newer than anything that build wrote.

This is sound as long as only CI builds in that target folder: a build from another checkout
into it would write artifacts the record knows nothing about.

Usage: keep-mtimes.py <record file>   (run from the repository's root)
"""

import hashlib
import os
import subprocess
import sys


def tracked_files():
    """(path, blob id of its content in the work tree) of every file git tracks.

    The id is computed from the file itself, as `git hash-object` does, not read from git's
    index: a file edited after checkout must not pass for the one the index describes."""
    listing = subprocess.run(
        ["git", "ls-files", "--stage", "-z"], check=True, capture_output=True
    ).stdout
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, path = entry.split(b"\t", 1)
        mode = meta.split(b" ")[0]
        # Submodules (160000) and symlinks (120000) are not files cargo reads the time of.
        if not mode.startswith(b"100"):
            continue
        path = os.fsdecode(path)
        try:
            with open(path, "rb") as tracked:
                content = tracked.read()
        except FileNotFoundError:
            continue
        blob = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        yield path, blob


def read_record(record_path):
    record = {}
    try:
        with open(record_path, encoding="utf-8") as record_file:
            for line in record_file:
                blob, mtime_ns, path = line.rstrip("\n").split("\t", 2)
                record[path] = (blob, int(mtime_ns))
    except FileNotFoundError:
        pass
    except ValueError:
        # A damaged record only costs a full build: start a new one.
        record = {}
    return record


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    record_path = sys.argv[1]
    previous = read_record(record_path)
    kept = 0
    lines = []
    for path, blob in tracked_files():
        before = previous.get(path)
        if before is not None and before[0] == blob:
            os.utime(path, ns=(before[1], before[1]))
            mtime_ns = before[1]
            kept += 1
        else:
            mtime_ns = os.stat(path).st_mtime_ns
        lines.append(f"{blob}\t{mtime_ns}\t{path}\n")
    temporary = record_path + ".new"
    with open(temporary, "w", encoding="utf-8") as record_file:
        record_file.writelines(lines)
    os.replace(temporary, record_path)
    print(
        f"file times: {kept} of {len(lines)} files unchanged since the previous CI run kept "
        "their times; the rest are new to this target folder"
    )


if __name__ == "__main__":
    main()
