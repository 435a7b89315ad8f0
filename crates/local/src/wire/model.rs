//! The official service models of the three Personalize APIs (botocore's `service-2.json`, kept in
//! `models/`, see its README) and the checks made with them before any handler runs: the body is
//! a JSON object, and every member of the operation's input shape satisfies its type, `required`,
//! length, pattern, enum, range and list/map size constraints. A violation is the operation's
//! `InvalidInputException` where its model lists one, else AWS's common `ValidationException`,
//! with AWS's "N validation errors detected: Value ... at 'path' failed to satisfy constraint:
//! ..." message. Also answers which errors an operation models and each API's signing name.
//! Depends on serde_json, regex and the AWS error shape only.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use serde_json::Value;

use crate::wire::error::ApiError;

/// One of the three Personalize APIs the server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// `personalize` (AWS JSON 1.1).
    ControlPlane,
    /// `personalize-events` (REST JSON).
    Events,
    /// `personalize-runtime` (REST JSON).
    Runtime,
}

/// Every service, for checks over all models.
pub const SERVICES: [Service; 3] = [Service::ControlPlane, Service::Events, Service::Runtime];

static CONTROL_PLANE: LazyLock<Value> =
    LazyLock::new(|| parse(include_str!("../../models/personalize.json")));
static EVENTS: LazyLock<Value> =
    LazyLock::new(|| parse(include_str!("../../models/personalize-events.json")));
static RUNTIME: LazyLock<Value> =
    LazyLock::new(|| parse(include_str!("../../models/personalize-runtime.json")));

fn parse(text: &str) -> Value {
    // The embedded models are checked by this module's tests; a broken one is a build defect.
    serde_json::from_str(text).unwrap_or(Value::Null)
}

impl Service {
    /// The service's name in botocore (`personalize`, `personalize-events`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Service::ControlPlane => "personalize",
            Service::Events => "personalize-events",
            Service::Runtime => "personalize-runtime",
        }
    }

    /// The parsed service model.
    pub fn model(self) -> &'static Value {
        match self {
            Service::ControlPlane => &CONTROL_PLANE,
            Service::Events => &EVENTS,
            Service::Runtime => &RUNTIME,
        }
    }

    /// The SigV4 signing name (`metadata.signingName`): what a credential scope must name.
    pub fn signing_name(self) -> &'static str {
        self.model()["metadata"]["signingName"]
            .as_str()
            .unwrap_or("personalize")
    }

    /// The error shapes the model lists for `op` (empty for an unknown operation).
    pub fn errors(self, op: &str) -> Vec<&'static str> {
        self.model()["operations"][op]["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["shape"].as_str()).collect())
            .unwrap_or_default()
    }

    fn shape(self, name: &str) -> &'static Value {
        &self.model()["shapes"][name]
    }
}

/// Whether the operation `op` (of whichever service has it) models the error `code`.
pub fn models_error(op: &str, code: &str) -> bool {
    SERVICES.iter().any(|s| s.errors(op).contains(&code))
}

/// Checks a request body against `op`'s input shape; the body must be a JSON object (an empty
/// body counts as `{}`).
pub fn validate(service: Service, op: &str, body: &[u8]) -> Result<(), ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::Serialization(format!("Malformed JSON request body: {e}")))?
    };
    if !value.is_object() {
        return Err(ApiError::Serialization(
            "The request body must be a JSON object".into(),
        ));
    }
    let Some(input) = service.model()["operations"][op]["input"]["shape"].as_str() else {
        return Ok(());
    };
    let mut violations = Vec::new();
    check(service, input, &value, "", &mut violations);
    if violations.is_empty() {
        return Ok(());
    }
    let n = violations.len();
    let message = format!(
        "{n} validation error{} detected: {}",
        if n == 1 { "" } else { "s" },
        violations.join("; ")
    );
    Err(constraint_error(service, op, message))
}

/// A constraint violation as `op` reports it: `InvalidInputException` where modelled, else
/// `ValidationException`.
pub fn constraint_error(service: Service, op: &str, message: String) -> ApiError {
    if service.errors(op).contains(&"InvalidInputException") {
        ApiError::InvalidInput(message)
    } else {
        ApiError::Validation(message)
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

/// How a value appears in a message: strings quoted (sensitive ones masked), others as JSON.
fn shown(shape: &Value, value: &Value) -> String {
    if shape["sensitive"].as_bool() == Some(true) {
        return "'***'".into();
    }
    match value {
        Value::String(s) => format!("'{s}'"),
        other => format!("'{other}'"),
    }
}

fn check(service: Service, shape_name: &str, value: &Value, path: &str, out: &mut Vec<String>) {
    let shape = service.shape(shape_name);
    let at = |value: &Value, constraint: &str| {
        format!(
            "Value {} at '{path}' failed to satisfy constraint: Member must {constraint}",
            shown(shape, value)
        )
    };
    let kind = shape["type"].as_str().unwrap_or_default();
    let type_ok = match kind {
        "structure" | "map" => value.is_object(),
        "list" => value.is_array(),
        "string" | "blob" => value.is_string(),
        "integer" | "long" => value.is_i64() || value.is_u64(),
        "float" | "double" => value.is_number(),
        "boolean" => value.is_boolean(),
        "timestamp" => value.is_number() || value.is_string(),
        _ => true,
    };
    if !type_ok {
        out.push(at(value, &format!("be of type {kind}")));
        return;
    }
    let mut bounds = |size: f64, what: &str| {
        if let Some(min) = shape["min"].as_f64().filter(|min| size < *min) {
            out.push(at(
                value,
                &format!("have {what} greater than or equal to {min}"),
            ));
        }
        if let Some(max) = shape["max"].as_f64().filter(|max| size > *max) {
            out.push(at(
                value,
                &format!("have {what} less than or equal to {max}"),
            ));
        }
    };
    match value {
        Value::String(s) if kind == "string" => {
            bounds(s.chars().count() as f64, "length");
            if let Some(allowed) = shape["enum"].as_array()
                && !allowed.iter().any(|a| a.as_str() == Some(s))
            {
                let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                out.push(at(
                    value,
                    &format!("satisfy enum value set: [{}]", names.join(", ")),
                ));
            }
            if let Some(pattern) = shape["pattern"].as_str()
                && !matches(pattern, s)
            {
                out.push(at(
                    value,
                    &format!("satisfy regular expression pattern: {pattern}"),
                ));
            }
        }
        Value::Number(n) if kind != "timestamp" => bounds(n.as_f64().unwrap_or(0.0), "value"),
        Value::Array(items) => {
            bounds(items.len() as f64, "length");
            if let Some(member) = shape["member"]["shape"].as_str() {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_null() {
                        let item_path = join(path, &format!("{}.member", i + 1));
                        check(service, member, item, &item_path, out);
                    }
                }
            }
        }
        Value::Object(members) if kind == "map" => {
            bounds(members.len() as f64, "length");
            let key = shape["key"]["shape"].as_str().unwrap_or_default();
            let entry = shape["value"]["shape"].as_str().unwrap_or_default();
            for (k, v) in members {
                let entry_path = join(path, k);
                check(service, key, &Value::String(k.clone()), &entry_path, out);
                if !v.is_null() {
                    check(service, entry, v, &entry_path, out);
                }
            }
        }
        Value::Object(members) => {
            let required = shape["required"].as_array().cloned().unwrap_or_default();
            for name in required.iter().filter_map(Value::as_str) {
                if members.get(name).is_none_or(Value::is_null) {
                    out.push(format!(
                        "Value null at '{}' failed to satisfy constraint: Member must not be null",
                        join(path, name)
                    ));
                }
            }
            if let Some(declared) = shape["members"].as_object() {
                for (name, member) in declared {
                    if let (Some(v), Some(member_shape)) =
                        (members.get(name), member["shape"].as_str())
                        && !v.is_null()
                    {
                        check(service, member_shape, v, &join(path, name), out);
                    }
                }
            }
        }
        _ => {}
    }
}

/// A model pattern as a `regex` pattern matching the whole value (AWS validates with Java's
/// `Matcher.matches()`), with Java's ASCII-only `\d` made explicit.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('d') if in_class => out.push_str("0-9"),
                Some('d') => out.push_str("[0-9]"),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    format!("^(?:{out})$")
}

/// Compiles a model pattern (see [`translate`]).
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&translate(pattern))
}

fn matches(pattern: &str, value: &str) -> bool {
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Regex>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let regex = cache
        .entry(pattern.to_string())
        .or_insert_with(|| compile(pattern).ok());
    // Every model pattern compiles (the tests below check them all); were one not to, the value
    // is refused rather than let through unchecked.
    regex.as_ref().is_some_and(|r| r.is_match(value))
}

/// Every pattern of every model.
pub fn patterns() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = SERVICES
        .iter()
        .flat_map(|s| s.model()["shapes"].as_object().into_iter().flatten())
        .filter_map(|(_, shape)| shape["pattern"].as_str())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_load_and_sign_as_personalize() {
        for service in SERVICES {
            assert!(
                service.model()["operations"]
                    .as_object()
                    .is_some_and(|o| !o.is_empty()),
                "{service:?} model"
            );
            assert_eq!(service.signing_name(), "personalize");
        }
        assert_eq!(
            Service::ControlPlane.errors("ListSchemas"),
            vec!["InvalidNextTokenException"]
        );
    }

    #[test]
    fn every_model_pattern_compiles() {
        let patterns = patterns();
        assert!(patterns.len() >= 10, "{patterns:?}");
        for pattern in patterns {
            if let Err(e) = compile(pattern) {
                panic!("model pattern {pattern:?} does not compile: {e}");
            }
        }
    }

    #[test]
    fn patterns_match_whole_values_with_java_semantics() {
        let role = "arn:([a-z\\d-]+):iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";
        assert!(matches(role, "arn:aws:iam::123456789012:role/personalize"));
        assert!(!matches(role, "not-a-role"));
        assert!(!matches(role, "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x"));
        assert!(matches("\\p{ASCII}{0,1500}", "page-2"));
        assert!(!matches("\\p{ASCII}{0,1500}", "pagé"));
        assert!(!matches("(s3|http|https)://.+", "file:///s3://x"));
    }

    #[test]
    fn violations_name_the_member_and_the_constraint() {
        let err = validate(
            Service::ControlPlane,
            "TagResource",
            br#"{"resourceArn": "arn:aws:personalize:us-east-1:0:dataset-group/x",
                 "tags": [{"tagKey": "a<b", "tagValue": "v"}]}"#,
        )
        .expect_err("tag key with <");
        assert_eq!(err.code(), "InvalidInputException");
        assert!(err.to_string().contains("'tags.1.member.tagKey'"), "{err}");
        let err = validate(
            Service::ControlPlane,
            "ListSchemas",
            br#"{"maxResults": 0}"#,
        )
        .expect_err("maxResults 0");
        assert_eq!(err.code(), "ValidationException");
        let err =
            validate(Service::ControlPlane, "CreateDatasetGroup", b"{}").expect_err("name missing");
        assert_eq!(
            err.to_string(),
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: \
             Member must not be null"
        );
        for body in ["[]", "\"x\"", "null", "3"] {
            let err = validate(Service::Runtime, "GetRecommendations", body.as_bytes())
                .expect_err("not an object");
            assert_eq!(err.code(), "SerializationException", "{body}");
        }
    }
}
