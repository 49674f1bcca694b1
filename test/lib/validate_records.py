#!/usr/bin/env python3
"""Validates every record line of the stores given against docs/record.schema.json.

Lines of the experiment harness ("kind": tool, unsupported, failed) are not records and are left
out. Prints one line per invalid record (its id and what is wrong) and a summary; exits 1 when any
line is invalid or not JSON, 2 when there is nothing to check."""
import json
import os
import sys

import jsonschema

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                      "record.schema.json")


def main(paths):
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    checked = bad = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as e:
                    print(f"{path}:{number}: not JSON: {e}")
                    bad += 1
                    continue
                if "kind" in record:
                    continue
                checked += 1
                errors = sorted(validator.iter_errors(record), key=lambda e: list(e.path))
                if errors:
                    bad += 1
                    where = "/".join(str(p) for p in errors[0].absolute_path)
                    print(f"{path}:{number}: record {str(record.get('id'))[:12]}: {len(errors)} "
                          f"error(s), first at /{where}: {errors[0].message[:300]}")
    print(f"{checked} record(s) checked, {bad} invalid")
    if bad:
        return 1
    return 0 if checked else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
