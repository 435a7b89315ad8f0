//! The official service models of the three Personalize APIs (botocore's `service-2.json`, kept in
//! `models/`, see its README) and the checks made with them before any handler runs: the body is
//! a JSON object, and every member of the operation's input shape satisfies its type, `required`,
//! length, pattern, enum, range and list/map size constraints. A violation is the operation's
//! `InvalidInputException` where its model lists one, else AWS's common `ValidationException`,
//! with AWS's "N validation errors detected: Value ... at 'path' failed to satisfy constraint:
//! ..." message. Also answers which errors an operation models and each API's signing name.
//! Depends on serde_json, regex and the AWS error shape only.

use std::collections::HashMap;
use std::sync::LazyLock;

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
    let compiled = &COMPILED[service as usize];
    let Some(input) = compiled.inputs.get(op).copied() else {
        return Ok(());
    };
    let mut walk = Walk {
        shapes: &compiled.shapes,
        path: Vec::new(),
        out: Vec::new(),
    };
    walk.check(input, &value);
    let violations = walk.out;
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

/// A shape's type, as the walker needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Structure,
    List,
    Map,
    String,
    Blob,
    Integer,
    Float,
    Boolean,
    Timestamp,
    Other,
}

/// A model shape with its constraints read out once (the request path does no JSON lookups).
struct Shape {
    kind: Kind,
    type_name: &'static str,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<(&'static str, Option<Regex>)>,
    enumeration: Vec<&'static str>,
    sensitive: bool,
    /// Structure members (name, shape index) and the required ones.
    members: Vec<(&'static str, usize)>,
    required: Vec<&'static str>,
    /// List member; map key and value.
    item: usize,
    key: usize,
    value: usize,
}

/// A service model's shapes, compiled, and each operation's input shape.
struct Compiled {
    shapes: Vec<Shape>,
    inputs: HashMap<&'static str, usize>,
}

impl Compiled {
    fn new(model: &'static Value) -> Compiled {
        static EMPTY: LazyLock<serde_json::Map<String, Value>> =
            LazyLock::new(serde_json::Map::new);
        let raw = model["shapes"].as_object().unwrap_or(&EMPTY);
        let index: HashMap<&str, usize> = raw
            .keys()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i))
            .collect();
        let at = |v: &Value| v["shape"].as_str().and_then(|n| index.get(n).copied());
        // A reference to a shape the model lacks points one past the end: such a value is not
        // checked further (never the case in these models).
        let missing = raw.len();
        let shapes = raw
            .values()
            .map(|shape| {
                let type_name = shape["type"].as_str().unwrap_or_default();
                Shape {
                    kind: match type_name {
                        "structure" => Kind::Structure,
                        "list" => Kind::List,
                        "map" => Kind::Map,
                        "string" => Kind::String,
                        "blob" => Kind::Blob,
                        "integer" | "long" => Kind::Integer,
                        "float" | "double" => Kind::Float,
                        "boolean" => Kind::Boolean,
                        "timestamp" => Kind::Timestamp,
                        _ => Kind::Other,
                    },
                    type_name,
                    min: shape["min"].as_f64(),
                    max: shape["max"].as_f64(),
                    pattern: shape["pattern"].as_str().map(|p| (p, compile(p).ok())),
                    enumeration: shape["enum"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect(),
                    sensitive: shape["sensitive"].as_bool() == Some(true),
                    members: shape["members"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(name, m)| (name.as_str(), at(m).unwrap_or(missing)))
                        .collect(),
                    required: shape["required"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect(),
                    item: at(&shape["member"]).unwrap_or(missing),
                    key: at(&shape["key"]).unwrap_or(missing),
                    value: at(&shape["value"]).unwrap_or(missing),
                }
            })
            .collect();
        let inputs = model["operations"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(op, o)| Some((op.as_str(), at(&o["input"])?)))
            .collect();
        Compiled { shapes, inputs }
    }
}

/// Indexed by `Service as usize` (`SERVICES` lists them in declaration order).
static COMPILED: LazyLock<[Compiled; 3]> =
    LazyLock::new(|| SERVICES.map(|service| Compiled::new(service.model())));

/// One step of a member path: a member or map key, or a 1-based list position.
#[derive(Clone, Copy)]
enum Step<'a> {
    Member(&'a str),
    Item(usize),
}

/// Walks a value against a shape, keeping the member path (formatted only for a violation).
struct Walk<'a> {
    shapes: &'static [Shape],
    path: Vec<Step<'a>>,
    out: Vec<String>,
}

impl<'a> Walk<'a> {
    /// The path as AWS writes it: `tags.1.member.tagKey`.
    fn path(&self) -> String {
        let mut path = String::new();
        for step in &self.path {
            if !path.is_empty() {
                path.push('.');
            }
            match step {
                Step::Member(name) => path.push_str(name),
                Step::Item(i) => path.push_str(&format!("{i}.member")),
            }
        }
        path
    }

    fn violation(&mut self, shape: &Shape, value: &Value, constraint: &str) {
        let shown = match value {
            _ if shape.sensitive => "'***'".to_string(),
            Value::String(s) => format!("'{s}'"),
            other => format!("'{other}'"),
        };
        let message = format!(
            "Value {shown} at '{}' failed to satisfy constraint: Member must {constraint}",
            self.path()
        );
        self.out.push(message);
    }

    fn bounds(&mut self, shape: &Shape, value: &Value, size: f64, what: &str) {
        if let Some(min) = shape.min.filter(|min| size < *min) {
            self.violation(
                shape,
                value,
                &format!("have {what} greater than or equal to {min}"),
            );
        }
        if let Some(max) = shape.max.filter(|max| size > *max) {
            self.violation(
                shape,
                value,
                &format!("have {what} less than or equal to {max}"),
            );
        }
    }

    fn string(&mut self, shape: &Shape, value: &Value, s: &str) {
        if shape.min.is_some() || shape.max.is_some() {
            self.bounds(shape, value, s.chars().count() as f64, "length");
        }
        if !shape.enumeration.is_empty() && !shape.enumeration.contains(&s) {
            let constraint = format!("satisfy enum value set: [{}]", shape.enumeration.join(", "));
            self.violation(shape, value, &constraint);
        }
        // A pattern that does not compile refuses the value rather than let it through
        // unchecked (a test compiles every model pattern).
        if let Some((pattern, regex)) = &shape.pattern
            && !regex.as_ref().is_some_and(|r| r.is_match(s))
        {
            let constraint = format!("satisfy regular expression pattern: {pattern}");
            self.violation(shape, value, &constraint);
        }
    }

    fn check(&mut self, index: usize, value: &'a Value) {
        let shapes = self.shapes;
        let Some(shape) = shapes.get(index) else {
            return;
        };
        let type_ok = match shape.kind {
            Kind::Structure | Kind::Map => value.is_object(),
            Kind::List => value.is_array(),
            Kind::String | Kind::Blob => value.is_string(),
            Kind::Integer => value.is_i64() || value.is_u64(),
            Kind::Float => value.is_number(),
            Kind::Boolean => value.is_boolean(),
            Kind::Timestamp => value.is_number() || value.is_string(),
            Kind::Other => true,
        };
        if !type_ok {
            self.violation(shape, value, &format!("be of type {}", shape.type_name));
            return;
        }
        match (shape.kind, value) {
            (Kind::String, Value::String(s)) => self.string(shape, value, s),
            (Kind::Integer | Kind::Float, Value::Number(n)) => {
                self.bounds(shape, value, n.as_f64().unwrap_or(0.0), "value");
            }
            (Kind::List, Value::Array(items)) => {
                self.bounds(shape, value, items.len() as f64, "length");
                for (i, item) in items.iter().enumerate().filter(|(_, v)| !v.is_null()) {
                    self.path.push(Step::Item(i + 1));
                    self.check(shape.item, item);
                    self.path.pop();
                }
            }
            (Kind::Map, Value::Object(members)) => {
                self.bounds(shape, value, members.len() as f64, "length");
                for (k, v) in members {
                    self.path.push(Step::Member(k));
                    if let Some(key) = shapes.get(shape.key) {
                        self.string(key, &Value::String(k.clone()), k);
                    }
                    if !v.is_null() {
                        self.check(shape.value, v);
                    }
                    self.path.pop();
                }
            }
            (Kind::Structure, Value::Object(members)) => {
                for name in &shape.required {
                    if members.get(*name).is_none_or(Value::is_null) {
                        self.path.push(Step::Member(name));
                        let message = format!(
                            "Value null at '{}' failed to satisfy constraint: Member must not \
                             be null",
                            self.path()
                        );
                        self.out.push(message);
                        self.path.pop();
                    }
                }
                for (name, v) in members.iter().filter(|(_, v)| !v.is_null()) {
                    if let Some((_, member)) = shape.members.iter().find(|(n, _)| n == name) {
                        self.path.push(Step::Member(name));
                        self.check(*member, v);
                        self.path.pop();
                    }
                }
            }
            _ => {}
        }
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

    fn matches(pattern: &str, value: &str) -> bool {
        compile(pattern).expect("compiles").is_match(value)
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
        assert!(matches("(s3|http|https)://.+", "s3://bucket/key.csv"));
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
