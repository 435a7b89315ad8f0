"""Runs the operator binary the way the chart's Deployment would: the container's args and env
from a rendered manifest (`helm get manifest`), the downward-API values filled in, and a
kubeconfig whose credentials are a token of the chart's ServiceAccount, so every request is
authorized by the chart's RBAC exactly as in a pod.

Usage: run_operator.py MANIFEST BINARY KUBECONFIG_IN KUBECONFIG_OUT TOKEN POD_NAME HTTP_ADDRESS [ENV=VALUE ...]
Writes KUBECONFIG_OUT, prints the command line, then execs the operator (ENV=VALUE override the
Deployment's env, e.g. AWS_ENDPOINT_URL for a local personalize-local).
"""

from __future__ import annotations

import os
import sys

import yaml


def main() -> None:
    manifest, binary, kubeconfig_in, kubeconfig_out, token, pod_name, http_address, *overrides = sys.argv[1:]
    docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    namespace = deployment["metadata"]["namespace"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]

    config = yaml.safe_load(open(kubeconfig_in))
    config["users"] = [{"name": "operator", "user": {"token": token}}]
    config["contexts"][0]["context"].update({"user": "operator", "namespace": namespace})
    with open(kubeconfig_out, "w") as f:
        yaml.safe_dump(config, f)
    os.chmod(kubeconfig_out, 0o600)

    field = {"metadata.name": pod_name, "metadata.namespace": namespace}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KUBECONFIG": kubeconfig_out}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            env[e["name"]] = field[e["valueFrom"]["fieldRef"]["fieldPath"]]
    for o in overrides:
        k, v = o.split("=", 1)
        env[k] = v
    args = [a if not a.startswith("--http-address=") else f"--http-address={http_address}" for a in container["args"]]
    print("run_operator.py:", binary, " ".join(args), flush=True)
    os.execve(binary, [binary, *args], env)


if __name__ == "__main__":
    main()
