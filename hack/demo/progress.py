#!/usr/bin/env python3
"""One progress line for the demo from `kubectl get personalize -o json` on stdin (stdlib only).

Prints, in dependency order, each object's kind, its Personalize status and its Ready condition,
plus what it is waiting on (the import of a DatasetGroup, the training of a Solution), e.g.
  DatasetGroup: ACTIVE, import CREATE IN_PROGRESS | Solution: ACTIVE | Campaign: - | EventTracker: -
A ready object is marked "[Ready]". Exits 0 and prints nothing when there is no object.
"""
import json
import sys

ORDER = ["DatasetGroup", "Solution", "Campaign", "EventTracker"]


def describe(obj):
    status = obj.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions", []))
    text = f"{obj['kind']}: {status.get('status') or '-'}"
    if obj["kind"] == "DatasetGroup":
        imp = ((status.get("datasets") or {}).get("interactions") or {}).get("lastImport") or {}
        if imp.get("status") and imp.get("status") != "ACTIVE":
            text += f", import {imp['status']}"
    if obj["kind"] == "Solution":
        versions = status.get("versions") or []
        if versions and versions[0].get("status") != "ACTIVE":
            text += f", training {versions[0].get('status')}"
    if obj.get("metadata", {}).get("deletionTimestamp"):
        text += ", deleting"
    return text + (" [Ready]" if ready else "")


def main():
    items = json.load(sys.stdin).get("items", [])
    items.sort(key=lambda o: (ORDER.index(o["kind"]) if o["kind"] in ORDER else 9,
                              o["metadata"]["name"]))
    if items:
        print(" | ".join(describe(o) for o in items))


if __name__ == "__main__":
    main()
