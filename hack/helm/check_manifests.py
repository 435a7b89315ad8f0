"""Checks a `helm template` rendering of charts/personalize-operator against the values it was
rendered with: hardened pod and container security, probes on the named port, the operator's
arguments and downward-API env, least-privilege RBAC (the exact rules, no wildcards; Secrets only
when rbac.trackingIdSecrets; a Role instead of a ClusterRole when watchNamespace is set; the Lease
rules only with leader election), the IRSA annotation, the metrics Service and ServiceMonitor.

Usage: check_manifests.py RENDERED.yaml NAMESPACE [VALUES.yaml ...]
(values files in the order given to helm, the chart's values.yaml first). Prints one line per
check and `N passed, N failed`.
"""

from __future__ import annotations

import pathlib
import sys

import yaml

# Kinds that publish (spec.publish: owned ConfigMaps/Secrets, hence update on their finalizers).
PUBLISHING = ["datasetgroups", "solutions", "campaigns", "eventtrackers", "filters", "recommenders", "metricattributions"]
# The job kinds publish nothing.
KINDS = PUBLISHING + ["batchinferencejobs", "batchsegmentjobs", "datasetexportjobs", "datadeletionjobs"]
GROUP = "personalize-operator.dev"


def merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def triples(rules: list[dict]) -> set[tuple[str, str, str, tuple[str, ...]]]:
    out = set()
    for r in rules:
        names = tuple(r.get("resourceNames", []))
        for g in r["apiGroups"]:
            for res in r["resources"]:
                for verb in r["verbs"]:
                    out.add((g, res, verb, names))
    return out


def main() -> int:
    rendered, namespace, *value_files = sys.argv[1:]
    values: dict = {}
    for f in value_files:
        values = merge(values, yaml.safe_load(pathlib.Path(f).read_text()) or {})
    docs = [d for d in yaml.safe_load_all(pathlib.Path(rendered).read_text()) if d]
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    results: list[tuple[bool, str]] = []

    def check(ok: bool, what: str) -> None:
        results.append((bool(ok), what))

    # Deployment and pod security.
    (dep,) = by_kind["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and csc.get("runAsNonRoot") is True, "runAsNonRoot on pod and container")
    check(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0, "runs as a non-zero uid")
    check(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
    check(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"] and not csc.get("capabilities", {}).get("add"), "capabilities: drop ALL, add none")
    check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "seccomp RuntimeDefault")
    check(not csc.get("privileged") and not pod.get("hostNetwork") and not pod.get("hostPID"), "not privileged, no host namespaces")
    port = {p["name"]: p["containerPort"] for p in c["ports"]}
    check(port.get("http") == values["httpPort"], "named container port http")
    check(c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, "liveness /healthz on port http")
    check(c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, "readiness /readyz on port http")
    res = c.get("resources", {})
    check(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory"), "cpu/memory requests and a memory limit")
    image = c["image"]
    check(":" in image.rsplit("/", 1)[-1] or "@sha256:" in image, f"image pinned ({image})")
    check(not image.endswith(":latest"), "image is not :latest")
    args = c["args"]
    le = values["leaderElection"]["enabled"]
    check(args[0] == "run", "runs `personalize-operator run`")
    check(f"--leader-elect={str(le).lower()}" in args, f"--leader-elect={str(le).lower()}")
    check(f"--http-address=0.0.0.0:{values['httpPort']}" in args, "--http-address binds the pod IP")
    check(f"--log-format={values['operator']['logFormat']}" in args, "--log-format")
    ns_arg = [a for a in args if a.startswith("--namespace=")]
    check(ns_arg == ([f"--namespace={values['watchNamespace']}"] if values["watchNamespace"] else []), "--namespace only with watchNamespace")
    env = {e["name"]: e for e in c.get("env", [])}
    check(env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name", "POD_NAME from the downward API")
    check(env.get("POD_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace", "POD_NAMESPACE from the downward API")
    region, endpoint = values["aws"]["region"], values["aws"]["endpointUrl"]
    check(env.get("AWS_REGION", {}).get("value") == (region or None), "AWS_REGION only when aws.region is set")
    check(env.get("AWS_ENDPOINT_URL", {}).get("value") == (endpoint or None), "AWS_ENDPOINT_URL only when aws.endpointUrl is set")
    secret = values["aws"]["credentials"]["secretName"]
    envfrom = c.get("envFrom", [])
    check(envfrom == ([{"secretRef": {"name": secret}}] if secret else []), "credentials Secret via envFrom only when set")
    check(dep["spec"]["replicas"] == values["replicaCount"], "replicas")
    check((dep["spec"].get("strategy", {}).get("type") == "Recreate") == (not le), "Recreate rollouts exactly when leader election is off")
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    check("/tmp" in mounts, "a writable /tmp despite the read-only root")

    # ServiceAccount and IRSA.
    sa_name = pod["serviceAccountName"]
    sas = by_kind.get("ServiceAccount", [])
    if values["serviceAccount"]["create"]:
        check(len(sas) == 1 and sas[0]["metadata"]["name"] == sa_name, "the Deployment uses the chart's ServiceAccount")
        ann = sas[0]["metadata"].get("annotations") or {}
        arn = values["serviceAccount"]["roleArn"]
        check(ann.get("eks.amazonaws.com/role-arn") == (arn or None), "IRSA eks.amazonaws.com/role-arn from serviceAccount.roleArn")
    else:
        check(not sas and sa_name == values["serviceAccount"]["name"], "an existing ServiceAccount is used, none created")

    # RBAC: the exact rules.
    expected = set()
    for k in KINDS:
        for v in ["get", "list", "watch", "patch"]:
            expected.add((GROUP, k, v, ()))
        expected.add((GROUP, f"{k}/status", "patch", ()))
    expected |= {("events.k8s.io", "events", "create", ()), ("events.k8s.io", "events", "patch", ())}
    if values["rbac"]["trackingIdSecrets"]:
        expected |= {("", "secrets", "create", ()), ("", "secrets", "patch", ()), (GROUP, "eventtrackers/finalizers", "update", ())}
    if values["rbac"].get("publish"):
        expected |= {("", r, v, ()) for r in ["configmaps", "secrets"] for v in ["create", "patch"]}
        expected |= {(GROUP, f"{k}/finalizers", "update", ()) for k in PUBLISHING}
    watch_ns = values["watchNamespace"]
    roles = by_kind.get("Role", [])
    cluster_roles = by_kind.get("ClusterRole", [])
    main_roles = [r for r in roles if not r["metadata"]["name"].endswith("-leader-election")]
    if watch_ns:
        check(not cluster_roles and not by_kind.get("ClusterRoleBinding"), "no cluster-wide RBAC when watchNamespace is set")
        check(len(main_roles) == 1 and main_roles[0]["metadata"]["namespace"] == watch_ns, f"a Role in {watch_ns}")
        rules = main_roles[0]["rules"] if main_roles else []
    else:
        check(len(cluster_roles) == 1 and not main_roles, "one ClusterRole when watching all namespaces")
        rules = cluster_roles[0]["rules"] if cluster_roles else []
    got = triples(rules)
    check(got == expected, f"operator rules are exactly the needed ones (extra {sorted(got - expected)}, missing {sorted(expected - got)})")
    everything = [r for d in roles + cluster_roles for r in d["rules"]]
    check(all("*" not in r["verbs"] + r["resources"] + r["apiGroups"] for r in everything), "no wildcard in any rule")
    check(not any(v in {"delete", "deletecollection", "escalate", "bind", "impersonate"} for r in everything for v in r["verbs"]), "no delete/escalate/bind/impersonate")
    lease_roles = [r for r in roles if r["metadata"]["name"].endswith("-leader-election")]
    if le:
        lease = values["leaderElection"]["leaseName"] or dep["metadata"]["name"]
        check(any(a == f"--lease-name={lease}" for a in args), f"--lease-name={lease}")
        check(f"--lease-duration-seconds={values['leaderElection']['leaseDurationSeconds']}" in args, "--lease-duration-seconds")
        want = {("coordination.k8s.io", "leases", "create", ()), ("coordination.k8s.io", "leases", "get", (lease,)), ("coordination.k8s.io", "leases", "update", (lease,))}
        check(len(lease_roles) == 1 and lease_roles[0]["metadata"]["namespace"] == namespace and triples(lease_roles[0]["rules"]) == want, "Lease rules in the release namespace, get/update only on the operator's Lease")
    else:
        check(not lease_roles, "no Lease RBAC without leader election")
    bindings = by_kind.get("RoleBinding", []) + by_kind.get("ClusterRoleBinding", [])
    check(bindings and all(b["subjects"] == [{"kind": "ServiceAccount", "name": sa_name, "namespace": namespace}] for b in bindings), "every binding is to the operator's ServiceAccount only")

    # Metrics.
    svcs = by_kind.get("Service", [])
    if values["metrics"]["service"]["enabled"]:
        check(len(svcs) == 1 and svcs[0]["spec"]["ports"][0]["name"] == "metrics" and svcs[0]["spec"]["ports"][0]["targetPort"] == "http", "metrics Service on port metrics -> http")
        check(svcs and svcs[0]["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items(), "the Service selects the operator pods")
    else:
        check(not svcs, "no Service when metrics.service.enabled is false")
    sms = by_kind.get("ServiceMonitor", [])
    if values["metrics"]["serviceMonitor"]["enabled"]:
        check(len(sms) == 1 and sms[0]["spec"]["endpoints"][0]["port"] == "metrics" and sms[0]["spec"]["endpoints"][0]["path"] == "/metrics", "ServiceMonitor scrapes /metrics")
        labels = values["metrics"]["serviceMonitor"]["labels"]
        check(sms and labels.items() <= sms[0]["metadata"]["labels"].items(), "ServiceMonitor carries the selector labels")
    else:
        check(not sms, "no ServiceMonitor unless enabled")

    # Everything namespaced is in the release namespace (or the watched one), nothing else.
    for d in docs:
        ns = d["metadata"].get("namespace")
        if d["kind"] in {"ClusterRole", "ClusterRoleBinding"}:
            check(ns is None, f"{d['kind']} is cluster-scoped")
        else:
            check(ns in {namespace, watch_ns or namespace}, f"{d['kind']}/{d['metadata']['name']} namespace {ns}")

    failed = [w for ok, w in results if not ok]
    for ok, what in results:
        print(("ok   " if ok else "FAIL ") + what)
    print(f"{pathlib.Path(rendered).name}: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
