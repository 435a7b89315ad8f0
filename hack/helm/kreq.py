"""Sends one raw request to the apiserver of $KUBECONFIG, impersonating a user, exactly as a
controller does (kubectl adds requests of its own: a GET before `patch --subresource`, for one).

Usage: kreq.py AS_USER METHOD PATH [CONTENT_TYPE BODY]
Prints the response; exits 0 on 2xx, 3 on 403 Forbidden, 1 otherwise.
"""

from __future__ import annotations

import base64
import os
import ssl
import sys
import tempfile
import urllib.error
import urllib.request

import yaml


def main() -> int:
    user, method, path, *rest = sys.argv[1:]
    config = yaml.safe_load(open(os.environ["KUBECONFIG"]))
    cluster = config["clusters"][0]["cluster"]
    token = config["users"][0]["user"]["token"]
    with tempfile.NamedTemporaryFile("wb", suffix=".crt", delete=False) as ca:
        ca.write(base64.b64decode(cluster["certificate-authority-data"]))
    context = ssl.create_default_context(cafile=ca.name)
    os.unlink(ca.name)
    body = rest[1].encode() if rest else None
    request = urllib.request.Request(cluster["server"] + path, data=body, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    # The apiserver adds a service account's groups itself when its user name is impersonated.
    request.add_header("Impersonate-User", user)
    if rest:
        request.add_header("Content-Type", rest[0])
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            print(response.status, response.read().decode()[:300])
            return 0
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode()[:500])
        return 3 if e.code == 403 else 1


if __name__ == "__main__":
    sys.exit(main())
