"""Checks every response personalize-local recorded (PERSONALIZE_LOCAL_RECORD, one JSON line per
answered operation) against the official service models of the botocore installed in the venv.

A success body must match the operation's output shape exactly: an object where a structure is
modelled, every required member present, no member the model does not know, every value of its
modelled type (no nulls), enum values from the enum, strings within their length bounds. An error
must be one the operation models, or one AWS returns for every operation, with the status its model
gives it and a string message.

Usage: check_responses.py RECORD_FILE [--min N]  (exit 1 on any violation, or fewer than N records).
"""

import argparse
import collections
import json
import sys

import botocore
import botocore.model
import botocore.session

# Errors AWS returns for any operation (botocore's common error handling, the AWS common errors
# page), besides those each operation models.
COMMON_ERRORS = {
    "AccessDeniedException",
    "IncompleteSignatureException",
    "InternalFailure",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "RequestEntityTooLargeException",
    "SerializationException",
    "ServiceUnavailable",
    "ThrottlingException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "ValidationException",
}


def check_value(shape, value, path, out):
    """Appends to `out` every way `value` departs from `shape`."""
    kind = shape.type_name
    if value is None:
        out.append(f"{path}: null where the model has a {kind}")
        return
    if kind == "structure":
        if not isinstance(value, dict):
            out.append(f"{path}: {type(value).__name__} where the model has a structure")
            return
        for name in shape.required_members:
            if name not in value:
                out.append(f"{path}.{name}: required member missing")
        for name, member in value.items():
            if name not in shape.members:
                out.append(f"{path}.{name}: member not in {shape.name}")
            else:
                check_value(shape.members[name], member, f"{path}.{name}", out)
    elif kind == "list":
        if not isinstance(value, list):
            out.append(f"{path}: {type(value).__name__} where the model has a list")
            return
        for i, item in enumerate(value):
            check_value(shape.member, item, f"{path}[{i}]", out)
    elif kind == "map":
        if not isinstance(value, dict):
            out.append(f"{path}: {type(value).__name__} where the model has a map")
            return
        for k, v in value.items():
            check_value(shape.key, k, f"{path}.<key {k}>", out)
            check_value(shape.value, v, f"{path}.{k}", out)
    elif kind in ("string", "blob"):
        if not isinstance(value, str):
            out.append(f"{path}: {type(value).__name__} where the model has a {kind}")
            return
        if kind == "string":
            enum = shape.metadata.get("enum")
            if enum and value not in enum:
                out.append(f"{path}: {value!r} not in the enum {enum}")
            lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
            if lo is not None and len(value) < lo or hi is not None and len(value) > hi:
                out.append(f"{path}: length {len(value)} outside [{lo}, {hi}]")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(f"{path}: {value!r} where the model has an {kind}")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append(f"{path}: {value!r} where the model has a {kind}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path}: {value!r} where the model has a boolean")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append(f"{path}: {value!r} where the model has an epoch-seconds timestamp")
    else:
        out.append(f"{path}: unexpected model type {kind}")


def check_record(models, record):
    """The violations of one recorded response, or None when the operation is not modelled."""
    model = models[record["service"]]
    try:
        op = model.operation_model(record["operation"])
    except botocore.model.OperationNotFoundError:
        return None
    status, body, out = record["status"], record["body"], []
    where = f"{record['service']} {op.name} {status}"
    if status == 200:
        if op.output_shape is None:
            if body not in (None, {}):
                out.append(f"{where}: a body where the model has no output: {body!r}")
        else:
            check_value(op.output_shape, body if body is not None else {}, where, out)
        return out
    code = body.get("__type", "") if isinstance(body, dict) else ""
    modelled = {e.name: e for e in op.error_shapes}
    if code not in modelled and code not in COMMON_ERRORS:
        out.append(f"{where}: error {code!r} is neither modelled ({sorted(modelled)}) nor common")
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        out.append(f"{where}: error body without a string message: {body!r}")
    expected = modelled[code].metadata.get("error", {}).get("httpStatusCode") if code in modelled else None
    if expected is not None and expected != status:
        out.append(f"{where}: {code} answered with {status}, the model says {expected}")
    if status < 400:
        out.append(f"{where}: an error with status {status}")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("record")
    parser.add_argument("--min", type=int, default=1, help="fewest records expected")
    args = parser.parse_args()
    session = botocore.session.get_session()
    models = {
        name: session.get_service_model(name)
        for name in ("personalize", "personalize-events", "personalize-runtime")
    }
    checked, skipped, violations = collections.Counter(), 0, []
    with open(args.record) as f:
        for n, line in enumerate(f, 1):
            record = json.loads(line)
            found = check_record(models, record)
            if found is None:
                skipped += 1
                continue
            checked[(record["service"], record["operation"])] += 1
            violations.extend(f"line {n}: {v}" for v in found)
    total = sum(checked.values())
    print(
        f"check_responses: botocore {botocore.__version__}: {total} responses of "
        f"{len(checked)} operations checked ({skipped} to unknown operations skipped), "
        f"{len(violations)} violations"
    )
    answered = {(service, op) for (service, op), _ in checked.items()}
    modelled = {(name, op) for name, model in models.items() for op in model.operation_names}
    unanswered = sorted(f"{service} {op}" for service, op in modelled - answered)
    print(
        f"check_responses: {len(modelled & answered)} of {len(modelled)} modelled operations "
        f"have a recorded response" + (f"; none for: {', '.join(unanswered)}" if unanswered else "")
    )
    for v in violations[:200]:
        print("  " + v)
    if total < args.min:
        print(f"check_responses: expected at least {args.min} responses", file=sys.stderr)
        return 1
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
