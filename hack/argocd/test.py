"""Tests the Argo CD health check of every kind (charts/personalize-operator/argocd/health.lua).

Runs the script in Lua 5.1 (lupa's embedded interpreter: the dialect of Argo CD's gopher-lua),
with the globals Argo CD's sandbox does not offer removed, against every fixture in fixtures/:
real-shaped objects whose annotations say the expected health status and a substring of the
message. Also checks that argocd-cm.yaml (the snippet users merge into Argo CD's argocd-cm) maps
each kind to exactly health.lua, and that every condition reason the operator writes (src/) is
classified on purpose. `--write` regenerates argocd-cm.yaml from health.lua.

Usage: python hack/argocd/test.py [--write]   (needs PyYAML and lupa: hack/helm/requirements.txt)
"""

from __future__ import annotations

import pathlib
import re
import sys

import yaml
from lupa import lua51

REPO = pathlib.Path(__file__).resolve().parents[2]
CHART_ARGOCD = REPO / "charts/personalize-operator/argocd"
HEALTH_LUA = CHART_ARGOCD / "health.lua"
ARGOCD_CM = CHART_ARGOCD / "argocd-cm.yaml"
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
GROUP = "personalize-operator.dev"
KINDS = ["DatasetGroup", "Solution", "Campaign", "EventTracker", "Filter", "Recommender", "MetricAttribution",
         "BatchInferenceJob", "BatchSegmentJob", "DatasetExportJob", "DataDeletionJob"]
EXPECTED = "test.personalize-operator.dev/expected-health"
EXPECTED_MESSAGE = "test.personalize-operator.dev/expected-message"

# Every reason the operator writes on Ready=False, and the health it must map to when Terminal is
# False (Terminal=True is always Degraded). A new reason in src/ fails the test until it is listed.
REASON_HEALTH = {
    "AwsError": "Progressing",
    "Throttled": "Progressing",
    "ResourceInUse": "Progressing",
    "Creating": "Progressing",
    "CreatingDataset": "Progressing",
    "DeletingDataset": "Progressing",
    "Deploying": "Progressing",
    "RollingOut": "Progressing",
    "Importing": "Progressing",
    "Recreating": "Progressing",
    "Training": "Progressing",
    "Updating": "Progressing",
    "Running": "Progressing",
    "FilterNotReady": "Progressing",
    "RunFailed": "Degraded",
    "Replacing": "Progressing",
    "Starting": "Progressing",
    "Stopping": "Progressing",
    "UpdateFailed": "Degraded",
    "ObserveOnly": "Degraded",
    "Paused": "Progressing",
    "UpdatingSchema": "Progressing",
    "CreatingSchema": "Progressing",
    "DeletedOutside": "Progressing",
    "Deleting": "Progressing",
    "DependentsExist": "Progressing",
    "StoppingTraining": "Progressing",
    "WaitingForData": "Progressing",
    "DatasetGroupNotFound": "Progressing",
    "DatasetGroupNotReady": "Progressing",
    "SolutionNotFound": "Progressing",
    "NoActiveVersion": "Progressing",
    "NoDatasetGroup": "Degraded",
    "NoSolution": "Degraded",
    "NoVersion": "Degraded",
    "CreateFailed": "Degraded",
    "DatasetCreateFailed": "Degraded",
    "DeployFailed": "Degraded",
    "ImportFailed": "Degraded",
    "TrainingFailed": "Degraded",
    "InvalidInput": "Degraded",
    "NameTaken": "Degraded",
    "ExpressionMismatch": "Degraded",
}
# Reasons only ever written with Terminal=True (so Degraded through Terminal, not the reason).
TERMINAL_ONLY = {"NoDatasetGroup", "NoSolution", "NoVersion"}


def argocd_cm() -> str:
    script = HEALTH_LUA.read_text()
    data = {f"resource.customizations.health.{GROUP}_{kind}": script for kind in KINDS}
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "argocd-cm",
            "namespace": "argocd",
            "labels": {"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"},
        },
        "data": data,
    }

    class Literal(str):
        pass

    def literal(dumper: yaml.SafeDumper, value: Literal) -> yaml.ScalarNode:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")

    yaml.add_representer(Literal, literal, Dumper=yaml.SafeDumper)
    doc["data"] = {k: Literal(v) for k, v in data.items()}
    header = (
        "# Generated from health.lua by `python hack/argocd/test.py --write`; do not edit.\n"
        "# Merge into Argo CD's argocd-cm (kubectl -n argocd patch configmap argocd-cm --patch-file\n"
        "# charts/personalize-operator/argocd/argocd-cm.yaml), or copy the data keys into the argo-cd\n"
        "# Helm chart's configs.cm values. See docs/argocd.md.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)


# What the script may see, as in Argo CD's gopher-lua sandbox (base, table, string and math
# libraries; no io, os, require, debug or file loading), plus the object as `obj`.
SANDBOX = """
local loadstring, setfenv, pairs = loadstring, setfenv, pairs
local safe = {}
for _, name in ipairs({"assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber",
                       "tostring", "type", "unpack", "string", "table", "math"}) do
  safe[name] = _G[name]
end
return function(source, obj)
  local f = assert(loadstring(source, "health.lua"))
  local env = {obj = obj}
  for k, v in pairs(safe) do env[k] = v end
  setfenv(f, env)
  return f()
end
"""


def runtime():
    return lua51.LuaRuntime(unpack_returned_tuples=True)


def to_lua(lua, value):
    if isinstance(value, dict):
        return lua.table_from({k: to_lua(lua, v) for k, v in value.items()})
    if isinstance(value, list):
        return lua.table_from([to_lua(lua, v) for v in value])
    if hasattr(value, "isoformat"):  # YAML timestamps: Argo CD passes strings
        return value.isoformat()
    return value


def health(obj: dict) -> tuple[str, str]:
    lua = runtime()
    check = lua.execute(SANDBOX)
    hs = check(HEALTH_LUA.read_text(), to_lua(lua, obj))
    return hs["status"], hs["message"] or ""


def main() -> int:
    if "--write" in sys.argv[1:]:
        ARGOCD_CM.write_text(argocd_cm())
        print(f"wrote {ARGOCD_CM.relative_to(REPO)}")
    failures: list[str] = []
    passed = 0

    # 1. The shipped argocd-cm snippet is health.lua for each kind.
    if not ARGOCD_CM.exists() or ARGOCD_CM.read_text() != argocd_cm():
        failures.append(f"{ARGOCD_CM.relative_to(REPO)} is stale: run python hack/argocd/test.py --write")
    else:
        cm = yaml.safe_load(ARGOCD_CM.read_text())
        keys = sorted(cm["data"])
        want = sorted(f"resource.customizations.health.{GROUP}_{k}" for k in KINDS)
        if keys != want:
            failures.append(f"argocd-cm keys {keys} != {want}")
        else:
            passed += 1
            print(f"ok   argocd-cm.yaml maps {', '.join(KINDS)} to health.lua")

    # 2. Every fixture gets the expected health.
    fixtures = sorted(FIXTURES.glob("*.yaml"))
    kinds_seen: dict[str, set[str]] = {k: set() for k in KINDS}
    for path in fixtures:
        obj = yaml.safe_load(path.read_text())
        annotations = obj["metadata"]["annotations"]
        want, want_msg = annotations[EXPECTED], annotations.get(EXPECTED_MESSAGE, "")
        got, msg = health(obj)
        kinds_seen[obj["kind"]].add(got)
        if got != want or want_msg not in msg:
            failures.append(f"{path.name}: got {got} ({msg!r}), want {want} (message containing {want_msg!r})")
        else:
            passed += 1
            print(f"ok   {path.name}: {got} ({msg})")
    for kind, seen in kinds_seen.items():
        missing = {"Healthy", "Progressing", "Degraded"} - seen
        if missing:
            failures.append(f"no {kind} fixture for {sorted(missing)}")

    # 3. Every reason the operator writes is classified on purpose, and the script agrees.
    src_reasons = set()
    for rs in (REPO / "src").rglob("*.rs"):
        text = rs.read_text()
        src_reasons |= set(re.findall(r'reason:\s*"([A-Za-z]+)"', text))
        # Reasons given positionally: Plan::wait/fail, Deletion::waiting, waiting_for.
        src_reasons |= set(
            re.findall(r'(?:Plan::wait|Plan::fail|Deletion::waiting|waiting_for)\(\s*"([A-Za-z]+)"', text)
        )
    src_reasons |= {"InvalidInput"}  # a constant in src/reconcile/mod.rs
    unknown = sorted(src_reasons - set(REASON_HEALTH))
    if unknown:
        failures.append(f"reasons in src/ without an expected health in {__file__}: {unknown}")
    for reason, want in sorted(REASON_HEALTH.items()):
        terminal = "True" if reason in TERMINAL_ONLY else "False"
        obj = {
            "apiVersion": f"{GROUP}/v1alpha1",
            "kind": "Solution",
            "metadata": {"name": "x", "generation": 4},
            "status": {
                "observedGeneration": 4,
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": reason, "message": "m"},
                    {"type": "Terminal", "status": terminal, "reason": reason if terminal == "True" else "NotTerminal", "message": ""},
                ],
            },
        }
        got, _ = health(obj)
        if got != want:
            failures.append(f"reason {reason}: got {got}, want {want}")
        else:
            passed += 1
    print(f"ok   {len(REASON_HEALTH)} condition reasons map to their health")

    for f in failures:
        print(f"FAIL {f}")
    print(f"argocd health: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
