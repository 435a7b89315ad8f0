#!/usr/bin/env python3
"""Counts what exists in a Personalize endpoint (personalize-local, or AWS), through boto3.

Usage: inventory.py [--endpoint URL] [--region R] [--expect-empty]
The endpoint defaults to AWS_ENDPOINT_URL_PERSONALIZE / AWS_ENDPOINT_URL (boto3 reads them);
credentials come from the usual chain. Prints one line per resource type with its count and
names. With --expect-empty, exits 1 unless every deletable type is at zero (dataset import jobs
are runs that Personalize keeps; they are listed for information only).
"""
import argparse
import sys

import boto3

# (label, list operation, result key, name key, deletable)
KINDS = [
    ("dataset groups", "list_dataset_groups", "datasetGroups", "name", True),
    ("datasets", "list_datasets", "datasets", "name", True),
    ("schemas", "list_schemas", "schemas", "name", True),
    ("solutions", "list_solutions", "solutions", "name", True),
    ("solution versions", "list_solution_versions", "solutionVersions", "solutionVersionArn", True),
    ("campaigns", "list_campaigns", "campaigns", "name", True),
    ("event trackers", "list_event_trackers", "eventTrackers", "name", True),
    ("filters", "list_filters", "Filters", "name", True),
    ("recommenders", "list_recommenders", "recommenders", "name", True),
    ("metric attributions", "list_metric_attributions", "metricAttributions", "name", True),
    ("dataset import jobs", "list_dataset_import_jobs", "datasetImportJobs", "jobName", False),
]


def list_all(client, op, key):
    out, token = [], None
    while True:
        kwargs = {"maxResults": 100}
        if token:
            kwargs["nextToken"] = token
        page = getattr(client, op)(**kwargs)
        out += page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint")
    p.add_argument("--region")
    p.add_argument("--expect-empty", action="store_true")
    a = p.parse_args()
    client = boto3.client("personalize", endpoint_url=a.endpoint, region_name=a.region)
    left = 0
    for label, op, key, name_key, deletable in KINDS:
        items = list_all(client, op, key)
        names = [str(i.get(name_key, "?")).split(":")[-1] for i in items]
        note = "" if deletable else "  (not counted: import jobs are runs the operator never deletes)"
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        print(f"  {label:20} {len(items):3}  {shown}{note}")
        if deletable:
            left += len(items)
    if a.expect_empty and left:
        print(f"  {left} resources left", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
