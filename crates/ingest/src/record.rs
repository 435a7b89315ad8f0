//! Decoding Kinesis records into PutEvents events, or the reason a record must be dead-lettered.
//! Pure; no I/O.
//!
//! Two shapes are accepted, both JSON objects:
//! - flat (the seed's format, plus PutEvents' optional fields): `userId`, `sessionId`, `itemId`,
//!   `eventType`, `sentAt`, `eventValue`, `properties`, `impression`, `recommendationId`,
//!   `eventAttributionSource`, `eventId`, `interactions` (N >= 1 means N identical events).
//!   `trackingId` is ignored: the sidecar's own tracking id is used.
//! - native (a PutEvents request body): `userId`, `sessionId`, `eventList: [{...}]`, each event
//!   as PutEvents takes it (`metricAttribution: {"eventAttributionSource": ...}`, or the flat
//!   `eventAttributionSource`).
//!
//! `recommendationId` (at most 40 characters), `impression` (1 to 25 item ids) and the event
//! attribution source (1 to 1024 printable ASCII characters, not only spaces) are checked as
//! PutEvents checks them, so a bad one is dead-lettered with its reason instead of failing a
//! whole PutEvents call.
//!
//! `sentAt` is epoch seconds (number or digit string; values above 10^11 are taken as
//! milliseconds) or an RFC 3339 / ISO-8601 date-time with `Z` or an offset. `properties` may be an
//! object or a string holding a JSON object; it is always sent as a string. `sessionId` defaults to
//! `userId`; one of them is required.

use aws_sdk_personalizeevents::primitives::{DateTime, DateTimeFormat};
use serde_json::{Map, Value};

use crate::event_id;

/// Largest record accepted (PutEvents' limit per event).
pub const MAX_RECORD_BYTES: usize = 10 * 1024;
/// Largest `interactions` count accepted in one record.
pub const MAX_INTERACTIONS: u64 = 100;
/// PutEvents' string limits.
const MAX_ID_LEN: usize = 256;
const MAX_PROPERTIES_LEN: usize = 1024;
const MAX_IMPRESSION: usize = 25;
/// PutEvents' limit on `recommendationId`.
pub const MAX_RECOMMENDATION_ID_LEN: usize = 40;
const MAX_ATTRIBUTION_SOURCE_LEN: usize = 1024;
/// Values of `sentAt` above this are milliseconds.
const MILLIS_THRESHOLD: f64 = 1e11;

/// One event ready for PutEvents.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub user_id: Option<String>,
    pub session_id: String,
    pub event_type: String,
    /// Epoch seconds.
    pub sent_at: f64,
    pub item_id: Option<String>,
    pub event_value: Option<f32>,
    /// A JSON object serialised as a string.
    pub properties: Option<String>,
    pub impression: Vec<String>,
    pub recommendation_id: Option<String>,
    /// `metricAttribution.eventAttributionSource`.
    pub event_attribution_source: Option<String>,
    pub event_id: String,
}

/// Why a record goes to the dead-letter destination.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Reject {
    #[error("record is {bytes} bytes, over the {MAX_RECORD_BYTES}-byte limit")]
    TooLarge { bytes: usize },
    #[error("record is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("record is not a JSON object")]
    NotAnObject,
    #[error("required field {0} is missing")]
    MissingField(&'static str),
    #[error("field {field} is invalid: {why}")]
    InvalidField { field: String, why: String },
    #[error("PutEvents rejected the event: {0}")]
    RejectedByPutEvents(String),
}

impl Reject {
    /// A low-cardinality CamelCase label for metrics and dead-letter entries.
    pub fn code(&self) -> &'static str {
        match self {
            Reject::TooLarge { .. } => "TooLarge",
            Reject::MalformedJson(_) | Reject::NotAnObject => "MalformedJson",
            Reject::MissingField(_) => "MissingField",
            Reject::InvalidField { .. } => "InvalidField",
            Reject::RejectedByPutEvents(_) => "RejectedByPutEvents",
        }
    }
}

/// Where a record came from; event ids derive from it.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    pub shard_id: &'a str,
    pub sequence_number: &'a str,
}

/// Decodes one record's bytes into its events.
pub fn decode(data: &[u8], origin: Origin<'_>) -> Result<Vec<Event>, Reject> {
    if data.len() > MAX_RECORD_BYTES {
        return Err(Reject::TooLarge { bytes: data.len() });
    }
    let value: Value =
        serde_json::from_slice(data).map_err(|e| Reject::MalformedJson(e.to_string()))?;
    decode_value(&value, origin)
}

/// Decodes an already-parsed record (the gateway validates with this before PutRecord).
pub fn decode_value(value: &Value, origin: Origin<'_>) -> Result<Vec<Event>, Reject> {
    let obj = value.as_object().ok_or(Reject::NotAnObject)?;
    let user_id = id_field(obj, "userId")?;
    let session_id = match id_field(obj, "sessionId")? {
        Some(s) => s,
        None => user_id.clone().ok_or(Reject::MissingField("userId"))?,
    };
    let mut events = Vec::new();
    match obj.get("eventList") {
        Some(Value::Array(list)) => {
            if list.is_empty() {
                return Err(invalid("eventList", "must not be empty"));
            }
            for (i, item) in list.iter().enumerate() {
                let e = item
                    .as_object()
                    .ok_or_else(|| invalid(&format!("eventList[{i}]"), "must be an object"))?;
                push_events(e, &user_id, &session_id, origin, &mut events)?;
            }
        }
        Some(_) => return Err(invalid("eventList", "must be an array")),
        None => push_events(obj, &user_id, &session_id, origin, &mut events)?,
    }
    Ok(events)
}

fn push_events(
    obj: &Map<String, Value>,
    user_id: &Option<String>,
    session_id: &str,
    origin: Origin<'_>,
    out: &mut Vec<Event>,
) -> Result<(), Reject> {
    let event_type = match obj.get("eventType") {
        None | Some(Value::Null) => return Err(Reject::MissingField("eventType")),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_LEN => s.clone(),
        Some(_) => {
            return Err(invalid(
                "eventType",
                "must be a string of 1 to 256 characters",
            ));
        }
    };
    let sent_at = match obj.get("sentAt") {
        None | Some(Value::Null) => return Err(Reject::MissingField("sentAt")),
        Some(v) => parse_sent_at(v)?,
    };
    let item_id = id_field(obj, "itemId")?;
    let event_value = match obj.get("eventValue") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            number(v)
                .filter(|f| f.is_finite())
                .ok_or_else(|| invalid("eventValue", "must be a finite number"))?
                as f32,
        ),
    };
    let properties = match obj.get("properties") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(Value::Object(map.clone()).to_string()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(_)) => Some(s.clone()),
            _ => {
                return Err(invalid(
                    "properties",
                    "must be a JSON object (or one as a string)",
                ));
            }
        },
        Some(_) => return Err(invalid("properties", "must be a JSON object")),
    };
    if properties
        .as_ref()
        .is_some_and(|p| p.len() > MAX_PROPERTIES_LEN)
    {
        return Err(invalid("properties", "is over 1024 characters"));
    }
    let impression = match obj.get("impression") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let ids: Option<Vec<String>> = items.iter().map(id_value).collect();
            let ids = ids.ok_or_else(|| invalid("impression", "must list item ids"))?;
            if ids.is_empty() || ids.len() > MAX_IMPRESSION {
                return Err(invalid("impression", "must list 1 to 25 item ids"));
            }
            ids
        }
        Some(_) => return Err(invalid("impression", "must be an array of item ids")),
    };
    let recommendation_id = id_field(obj, "recommendationId")?;
    if recommendation_id
        .as_ref()
        .is_some_and(|id| id.len() > MAX_RECOMMENDATION_ID_LEN)
    {
        return Err(invalid(
            "recommendationId",
            "must be a string of 1 to 40 characters",
        ));
    }
    let event_attribution_source = attribution_source(obj)?;
    let explicit_id = id_field(obj, "eventId")?;
    let copies = match obj.get("interactions") {
        None | Some(Value::Null) => 1,
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| (1..=MAX_INTERACTIONS).contains(n))
            .ok_or_else(|| invalid("interactions", "must be an integer from 1 to 100"))?,
    };
    for copy in 0..copies as usize {
        let event_id = match &explicit_id {
            Some(id) => event_id::derive_from_explicit(id, copy),
            None => event_id::derive(origin.shard_id, origin.sequence_number, out.len()),
        };
        out.push(Event {
            user_id: user_id.clone(),
            session_id: session_id.to_owned(),
            event_type: event_type.clone(),
            sent_at,
            item_id: item_id.clone(),
            event_value,
            properties: properties.clone(),
            impression: impression.clone(),
            recommendation_id: recommendation_id.clone(),
            event_attribution_source: event_attribution_source.clone(),
            event_id,
        });
    }
    Ok(())
}

/// The event attribution source: flat `eventAttributionSource` or PutEvents'
/// `metricAttribution.eventAttributionSource` (the same value when both are given).
fn attribution_source(obj: &Map<String, Value>) -> Result<Option<String>, Reject> {
    let flat = source_value(obj.get("eventAttributionSource"), "eventAttributionSource")?;
    let nested = match obj.get("metricAttribution") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => match m.get("eventAttributionSource") {
            None | Some(Value::Null) => {
                return Err(invalid(
                    "metricAttribution",
                    "must hold eventAttributionSource",
                ));
            }
            v => source_value(v, "metricAttribution.eventAttributionSource")?,
        },
        Some(_) => {
            return Err(invalid(
                "metricAttribution",
                "must be an object with eventAttributionSource",
            ));
        }
    };
    match (flat, nested) {
        (Some(a), Some(b)) if a != b => Err(invalid(
            "eventAttributionSource",
            "differs from metricAttribution.eventAttributionSource",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// An event attribution source as PutEvents takes it: 1 to 1024 printable ASCII characters,
/// not all spaces.
fn source_value(v: Option<&Value>, field: &str) -> Result<Option<String>, Reject> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if !s.is_empty()
                && s.len() <= MAX_ATTRIBUTION_SOURCE_LEN
                && s.bytes().all(|b| (0x20..=0x7e).contains(&b))
                && s.bytes().any(|b| b != b' ') =>
        {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(invalid(
            field,
            "must be 1 to 1024 printable ASCII characters, not only spaces",
        )),
    }
}

fn invalid(field: &str, why: &str) -> Reject {
    Reject::InvalidField {
        field: field.to_owned(),
        why: why.to_owned(),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An id: a string of 1 to 256 characters (or an integer, as the seed's producers sometimes
/// send, taken as its digits).
pub fn id_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && s.len() <= MAX_ID_LEN => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

fn id_field(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, Reject> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => id_value(v)
            .map(Some)
            .ok_or_else(|| invalid(field, "must be a string of 1 to 256 characters")),
    }
}

/// `sentAt` as epoch seconds.
pub fn parse_sent_at(v: &Value) -> Result<f64, Reject> {
    let bad = || invalid("sentAt", "must be epoch seconds or an ISO-8601 date-time");
    let secs = match v {
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<f64>() {
                Ok(f) => f,
                Err(_) => {
                    let dt = DateTime::from_str(s, DateTimeFormat::DateTimeWithOffset)
                        .map_err(|_| bad())?;
                    dt.as_secs_f64()
                }
            }
        }
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(bad());
    }
    Ok(if secs > MILLIS_THRESHOLD {
        secs / 1000.0
    } else {
        secs
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ORIGIN: Origin<'static> = Origin {
        shard_id: "shardId-000000000000",
        sequence_number: "42",
    };

    fn decode_json(v: Value) -> Result<Vec<Event>, Reject> {
        decode(v.to_string().as_bytes(), ORIGIN)
    }

    #[test]
    fn seed_record_with_interactions_and_tracking_id() {
        let events = decode_json(json!({
            "userId": "429", "interactions": 3, "itemId": "185",
            "trackingId": "ignored", "eventType": "click", "sentAt": "1698711110"
        }))
        .expect("decodes");
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].user_id.as_deref(), Some("429"));
        assert_eq!(events[0].session_id, "429");
        assert_eq!(events[0].item_id.as_deref(), Some("185"));
        assert_eq!(events[0].sent_at, 1_698_711_110.0);
        assert_eq!(events[0].event_id, "shardId-000000000000:42:0");
        assert_eq!(events[2].event_id, "shardId-000000000000:42:2");
    }

    #[test]
    fn sent_at_forms() {
        assert_eq!(parse_sent_at(&json!(1698711110)), Ok(1_698_711_110.0));
        assert_eq!(
            parse_sent_at(&json!(1698711110123u64)),
            Ok(1_698_711_110.123)
        );
        assert_eq!(
            parse_sent_at(&json!("2023-10-31T00:11:50Z")),
            Ok(1_698_711_110.0)
        );
        assert_eq!(
            parse_sent_at(&json!("2023-10-31T02:11:50+02:00")),
            Ok(1_698_711_110.0)
        );
        assert!(parse_sent_at(&json!("yesterday")).is_err());
        assert!(parse_sent_at(&json!(true)).is_err());
        assert!(parse_sent_at(&json!(-5)).is_err());
    }

    #[test]
    fn native_record_with_every_field() {
        let events = decode_json(json!({
            "userId": "u1", "sessionId": "s1",
            "eventList": [
                {"eventType": "watch", "sentAt": 1700000000, "itemId": "i1", "eventValue": 4.5,
                 "properties": {"device": "tv"}, "impression": ["i1", "i2"],
                 "recommendationId": "RID-1", "eventId": "mine"},
                {"eventType": "click", "sentAt": "2023-11-14T22:13:20Z", "itemId": 7,
                 "properties": "{\"a\":1}"}
            ]
        }))
        .expect("decodes");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].session_id, "s1");
        assert_eq!(events[0].event_value, Some(4.5));
        assert_eq!(events[0].properties.as_deref(), Some(r#"{"device":"tv"}"#));
        assert_eq!(events[0].impression, vec!["i1", "i2"]);
        assert_eq!(events[0].recommendation_id.as_deref(), Some("RID-1"));
        assert_eq!(events[0].event_id, "mine");
        assert_eq!(events[1].item_id.as_deref(), Some("7"));
        assert_eq!(events[1].properties.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(events[1].event_id, "shardId-000000000000:42:1");
    }

    #[test]
    fn attribution_fields_are_kept_and_checked() {
        let events = decode_json(json!({
            "userId": "u1", "itemId": "i1", "eventType": "click", "sentAt": 1700000000,
            "recommendationId": "RID-0123456789ab-0123456789abcdef0123456",
            "impression": ["i1", 2], "eventAttributionSource": "email"
        }))
        .expect("decodes");
        assert_eq!(events[0].event_attribution_source.as_deref(), Some("email"));
        assert_eq!(events[0].impression, vec!["i1", "2"]);
        let native = decode_json(json!({
            "userId": "u1",
            "eventList": [{"eventType": "click", "sentAt": 1, "itemId": "i1",
                           "metricAttribution": {"eventAttributionSource": "partner"}}]
        }))
        .expect("decodes");
        assert_eq!(
            native[0].event_attribution_source.as_deref(),
            Some("partner")
        );
        let base = json!({"userId": "1", "eventType": "click", "sentAt": 1});
        let bad = [
            ("recommendationId", json!("R".repeat(41))),
            ("eventAttributionSource", json!("   ")),
            ("eventAttributionSource", json!("tab\there")),
            ("eventAttributionSource", json!("x".repeat(1025))),
            ("eventAttributionSource", json!(5)),
            ("metricAttribution", json!("email")),
            ("metricAttribution", json!({})),
            ("impression", json!([])),
        ];
        for (field, value) in bad {
            let mut record = base.clone();
            record[field] = value;
            let err = decode_json(record).expect_err("rejected");
            assert_eq!(err.code(), "InvalidField", "{field}: {err}");
            assert!(err.to_string().contains(field), "{field}: {err}");
        }
        let mut both = base.clone();
        both["eventAttributionSource"] = json!("a");
        both["metricAttribution"] = json!({"eventAttributionSource": "b"});
        assert!(decode_json(both).is_err());
    }

    #[test]
    fn rejects_say_why() {
        let cases = [
            (
                json!({"itemId": "1", "eventType": "click", "sentAt": 1}),
                "MissingField",
            ),
            (json!({"userId": "1", "sentAt": 1}), "MissingField"),
            (json!({"userId": "1", "eventType": "click"}), "MissingField"),
            (
                json!({"userId": "1", "eventType": "click", "sentAt": "soon"}),
                "InvalidField",
            ),
            (
                json!({"userId": "1", "eventType": "click", "sentAt": 1, "interactions": 0}),
                "InvalidField",
            ),
            (
                json!({"userId": "1", "eventType": "click", "sentAt": 1, "properties": [1]}),
                "InvalidField",
            ),
            (
                json!({"userId": "1", "eventType": "click", "sentAt": 1, "properties": "[1]"}),
                "InvalidField",
            ),
            (
                json!({"userId": "1", "eventType": "", "sentAt": 1}),
                "InvalidField",
            ),
            (json!({"userId": "1", "eventList": []}), "InvalidField"),
            (json!([1, 2]), "MalformedJson"),
        ];
        for (value, code) in cases {
            let err = decode_json(value.clone()).expect_err("rejected");
            assert_eq!(err.code(), code, "{value}: {err}");
        }
        assert_eq!(
            decode_json(json!({"userId": "1", "sentAt": 1}))
                .expect_err("rejected")
                .to_string(),
            "required field eventType is missing"
        );
        assert_eq!(
            decode(b"{not json", ORIGIN).expect_err("rejected").code(),
            "MalformedJson"
        );
        let big = format!(
            r#"{{"userId":"1","eventType":"click","sentAt":1,"pad":"{}"}}"#,
            "x".repeat(MAX_RECORD_BYTES)
        );
        assert_eq!(
            decode(big.as_bytes(), ORIGIN).expect_err("rejected"),
            Reject::TooLarge { bytes: big.len() }
        );
    }
}
