"""Checks the IAM policies in docs/iam/: valid JSON policy documents, no wildcard actions, and
least privilege both ways: each policy grants exactly the AWS operations the code calls.

- operator-policy.json: every `.aws("Operation")` (and `page!`/`deleted!` operation) in src/ as
  personalize:Operation, plus
  personalize:TagResource (tags are set on create) and iam:PassRole (dataset import and KMS roles).
- ingest-policy.json: the Kinesis calls of the sidecar (crates/ingest) and personalize:PutEvents.
- gateway-policy.json: kinesis:PutRecord and personalize:GetRecommendations.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
IAM = REPO / "docs/iam"
ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z]+$")


def actions(doc: dict) -> set[str]:
    out: set[str] = set()
    for st in doc["Statement"]:
        a = st["Action"]
        out |= {a} if isinstance(a, str) else set(a)
    return out


def check_shape(name: str, doc: dict) -> list[str]:
    errors = []
    if doc.get("Version") != "2012-10-17":
        errors.append(f"{name}: Version must be 2012-10-17")
    sids = [st.get("Sid") for st in doc.get("Statement", [])]
    if not sids or None in sids or len(set(sids)) != len(sids):
        errors.append(f"{name}: every statement needs a unique Sid")
    for st in doc.get("Statement", []):
        if set(st) - {"Sid", "Effect", "Action", "Resource", "Condition"}:
            errors.append(f"{name}/{st.get('Sid')}: unexpected keys {sorted(set(st))}")
        if st.get("Effect") != "Allow":
            errors.append(f"{name}/{st.get('Sid')}: only Allow statements expected")
        acts = st.get("Action")
        acts = [acts] if isinstance(acts, str) else acts or []
        for a in acts:
            if not ACTION.match(a):
                errors.append(f"{name}/{st.get('Sid')}: action {a!r} is not service:Operation (no wildcards)")
        res = st.get("Resource")
        res = [res] if isinstance(res, str) else res or []
        if not res:
            errors.append(f"{name}/{st.get('Sid')}: no Resource")
        for r in res:
            if r != "*" and not r.startswith("arn:aws:"):
                errors.append(f"{name}/{st.get('Sid')}: resource {r!r} is not an ARN")
            if r == "*" and not all(a.split(":")[1].startswith("List") for a in acts):
                errors.append(f"{name}/{st.get('Sid')}: Resource * only for List actions (no resource-level support)")
    return errors


def main() -> int:
    errors: list[str] = []
    docs = {}
    for path in sorted(IAM.glob("*.json")):
        try:
            docs[path.name] = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            errors.append(f"{path.name}: invalid JSON: {e}")
            continue
        errors += check_shape(path.name, docs[path.name])

    src = "\n".join(p.read_text() for p in (REPO / "src").rglob("*.rs"))
    # `.aws("Op")` on an SDK call, or the sdk module's `page!(token, "Op", ...)`/`deleted!("Op", ...)`.
    ops = re.findall(r'\.aws\("([A-Za-z]+)"\)', src)
    ops += re.findall(r'(?:page!\(\s*\w+,|deleted!\()\s*"([A-Za-z]+)"', src)
    called = {f"personalize:{op}" for op in ops}
    want = {
        "operator-policy.json": called | {"personalize:TagResource", "iam:PassRole"},
        "ingest-policy.json": {
            "kinesis:ListShards",
            "kinesis:GetShardIterator",
            "kinesis:GetRecords",
            "kinesis:PutRecord",
            "personalize:PutEvents",
        },
        "gateway-policy.json": {"kinesis:PutRecord", "personalize:GetRecommendations"},
    }
    ingest = "\n".join(p.read_text() for p in (REPO / "crates/ingest/src").glob("*.rs"))
    for call, action in [
        (".list_shards()", "kinesis:ListShards"),
        (".get_shard_iterator()", "kinesis:GetShardIterator"),
        (".get_records()", "kinesis:GetRecords"),
        (".put_record()", "kinesis:PutRecord"),
        (".put_events()", "personalize:PutEvents"),
        (".get_recommendations()", "personalize:GetRecommendations"),
    ]:
        if call not in ingest:
            errors.append(f"crates/ingest no longer calls {call}: drop {action} from the policies")
    for name, expected in want.items():
        if name not in docs:
            errors.append(f"missing docs/iam/{name}")
            continue
        got = actions(docs[name])
        if got - expected:
            errors.append(f"{name}: grants actions the code never calls: {sorted(got - expected)}")
        if expected - got:
            errors.append(f"{name}: misses actions the code calls: {sorted(expected - got)}")
    passrole = [st for st in docs.get("operator-policy.json", {}).get("Statement", []) if st["Action"] == "iam:PassRole"]
    if not passrole or passrole[0].get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService") != "personalize.amazonaws.com":
        errors.append("operator-policy.json: iam:PassRole must be limited to iam:PassedToService personalize.amazonaws.com")

    for e in errors:
        print(f"FAIL {e}")
    checked = len(docs)
    print(f"iam policies: {checked} files, {len(called)} operator operations; {checked - len({e.split(':')[0] for e in errors})} passed, {len(errors)} failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
