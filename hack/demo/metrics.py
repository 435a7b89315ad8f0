#!/usr/bin/env python3
"""Summarises the operator's Prometheus /metrics text (on stdin) in three lines for the demo:
leadership, reconciles by kind, and AWS calls by verb and result. Standard library only."""
import collections
import re
import sys

LINE = re.compile(r'^(personalize_operator_[a-z_]+)(?:\{([^}]*)\})? ([0-9.e+-]+)$')


def main():
    leader, reconciles, calls, results = None, {}, collections.Counter(), collections.Counter()
    for line in sys.stdin:
        m = LINE.match(line.strip())
        if not m:
            continue
        name, labels, value = m.group(1), dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")), float(m.group(3))
        if name == "personalize_operator_leader":
            leader = int(value)
        elif name == "personalize_operator_reconciles_total":
            reconciles[labels.get("kind", "?")] = int(value)
        elif name == "personalize_operator_aws_calls_total":
            verb = re.match(r"[A-Z][a-z]+", labels.get("operation", "?"))
            calls[verb.group(0) if verb else "?"] += int(value)
            results[labels.get("result", "?")] += int(value)
    if leader is not None:
        print(f"    leader: {'yes' if leader else 'no'}")
    if reconciles:
        print("    reconciles: " + ", ".join(f"{k} {v}" for k, v in sorted(reconciles.items())))
    if calls:
        print(f"    AWS calls: {sum(calls.values())} (" + ", ".join(f"{k} {v}" for k, v in calls.most_common())
              + "; by result: " + ", ".join(f"{k} {v}" for k, v in results.most_common()) + ")")


if __name__ == "__main__":
    main()
