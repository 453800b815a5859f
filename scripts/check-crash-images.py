#!/usr/bin/env python3
"""Checks crash images written by the fault-injection test with h5py.

    check-crash-images.py DIR

DIR holds `*.h5` images, each with `<image>.candidates.json` beside it: a JSON
list of dump documents (scripts/h5json.py schema). Every image must open in
h5py, and its dump must equal one of its candidates (the content before the
interrupted operation, or after it). Prints one line per failure; exit 1 if any.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h5json  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = argv[1]
    images = sorted(f for f in os.listdir(root) if f.endswith(".h5"))
    failures = 0
    for name in images:
        path = os.path.join(root, name)
        with open(path + ".candidates.json") as f:
            candidates = json.load(f)
        try:
            actual = h5json.dump(path)
        except Exception as e:  # noqa: BLE001 - any failure to open is a finding
            print(f"{name}: h5py could not read it: {e}")
            failures += 1
            continue
        if not any(not h5json.differences(c, actual) for c in candidates):
            diffs = h5json.differences(candidates[0], actual)
            print(f"{name}: matches no candidate; vs the first: {diffs[:3]}")
            failures += 1
    print(f"check-crash-images: {len(images) - failures} of {len(images)} images OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
