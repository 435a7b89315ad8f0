#!/usr/bin/env bash
# Copies the official Personalize service models from the venv's botocore into
# crates/local/models/ (documentation stripped, keys sorted) and records the botocore version in
# crates/local/models/README.md. personalize-local validates every request against them.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(hack/python/venv.sh)/bin/python
"$python" - <<'PY'
import glob, gzip, json, os, re
import botocore

data = os.path.join(os.path.dirname(botocore.__file__), "data")

def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("documentation", "documentationUrl")}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x

for service in ["personalize", "personalize-events", "personalize-runtime"]:
    (path,) = glob.glob(f"{data}/{service}/*/service-2.json.gz")
    with gzip.open(path) as f:
        model = strip(json.load(f))
    with open(f"crates/local/models/{service}.json", "w") as f:
        json.dump(model, f, indent=1, sort_keys=True)
readme = "crates/local/models/README.md"
text = open(readme).read()
open(readme, "w").write(re.sub(r"\*\*botocore [^*]+\*\*", f"**botocore {botocore.__version__}**", text))
PY
