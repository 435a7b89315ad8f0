//! Input data as imported (CSV rows) and as streamed (PutEvents / PutItems / PutUsers).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One interaction (a row of the INTERACTIONS dataset, or one PutEvents event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub user_id: String,
    pub item_id: String,
    /// Epoch seconds.
    pub timestamp: i64,
    pub event_type: String,
    pub event_value: Option<f64>,
}

impl Interaction {
    /// A convenience constructor for an event without a value.
    pub fn new(user_id: &str, item_id: &str, timestamp: i64, event_type: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            item_id: item_id.to_owned(),
            timestamp,
            event_type: event_type.to_owned(),
            event_value: None,
        }
    }
}

/// One value of an ITEMS or USERS metadata field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldValue {
    Str(String),
    Num(f64),
    /// A categorical field with several values (`"a|b"` in the CSV).
    List(Vec<String>),
}

impl FieldValue {
    /// Parses a raw CSV cell: a number if it parses as one, a list if it contains `|`, else a string.
    pub fn parse_cell(raw: &str) -> Self {
        if let Ok(n) = raw.trim().parse::<f64>()
            && n.is_finite()
        {
            return FieldValue::Num(n);
        }
        if raw.contains('|') {
            return FieldValue::List(raw.split('|').map(|s| s.trim().to_owned()).collect());
        }
        FieldValue::Str(raw.to_owned())
    }

    /// The categorical values of this field (a string is a one-element list; numbers have none).
    pub fn categories(&self) -> Vec<&str> {
        match self {
            FieldValue::Str(s) => vec![s.as_str()],
            FieldValue::List(v) => v.iter().map(String::as_str).collect(),
            FieldValue::Num(_) => Vec::new(),
        }
    }
}

/// One row of the ITEMS or USERS dataset. Field names are stored as given; lookups by the
/// engine are case-insensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub fields: BTreeMap<String, FieldValue>,
    /// Creation time (epoch seconds), `CREATION_TIMESTAMP` for items; used by exploration.
    pub created: Option<i64>,
}

impl Record {
    /// A record without fields.
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            fields: BTreeMap::new(),
            created: None,
        }
    }

    /// Looks a field up case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldValue> {
        self.fields.get(name).or_else(|| {
            self.fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }
}

/// Everything a solution version trains on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub interactions: Vec<Interaction>,
    pub items: Vec<Record>,
    pub users: Vec<Record>,
}
