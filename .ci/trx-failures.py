#!/usr/bin/env python3
"""Prints each failed test of the given TRX files with the first lines of its message and stack trace.

test.sh prints this just before its summary line, so the tail of a CI log (often all that is kept) says why a test
failed, not only which one.
"""
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
LINES = 12


def main(paths):
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as error:
            print(f"(cannot read {path}: {error})")
            continue
        for result in root.iter(NS + "UnitTestResult"):
            if result.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"):
                continue
            print(f"-- {result.get('testName')}")
            for tag in ("Message", "StackTrace"):
                node = result.find(f"{NS}Output/{NS}ErrorInfo/{NS}{tag}")
                if node is not None and node.text:
                    for line in node.text.strip().splitlines()[:LINES]:
                        print("   " + line.rstrip()[:300])


if __name__ == "__main__":
    main(sys.argv[1:])
