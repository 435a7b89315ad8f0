//! Imported and streamed data as the store keeps it: interaction rows, item/user records and the
//! live events received through PutEvents. Plain serde types, independent of the engine (the
//! engine facade in `training.rs` / `serving.rs` converts them).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// One interaction (a CSV row of an INTERACTIONS dataset, or one PutEvents event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InteractionRow {
    #[serde(rename = "u")]
    pub user_id: String,
    #[serde(rename = "i")]
    pub item_id: String,
    #[serde(rename = "t")]
    pub timestamp: i64,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub event_value: Option<f64>,
}

/// One metadata value of an item or user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FieldValue {
    Str(String),
    Num(f64),
    /// A categorical value (`a|b|c` in CSV).
    List(Vec<String>),
}

/// One item or user record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordRow {
    pub id: String,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
}

/// The rows of one dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DatasetRows {
    Interactions(Vec<InteractionRow>),
    Items(Vec<RecordRow>),
    Users(Vec<RecordRow>),
}

impl DatasetRows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            DatasetRows::Interactions(rows) => rows.len(),
            DatasetRows::Items(rows) | DatasetRows::Users(rows) => rows.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `other` (INCREMENTAL import): interactions are added, records replace by id.
    pub fn append(&mut self, other: DatasetRows) {
        match (self, other) {
            (DatasetRows::Interactions(rows), DatasetRows::Interactions(more)) => rows.extend(more),
            (DatasetRows::Items(rows), DatasetRows::Items(more))
            | (DatasetRows::Users(rows), DatasetRows::Users(more)) => upsert_records(rows, more),
            (this, other) => *this = other,
        }
    }
}

/// Replaces records with the same id, appends new ones, keeping first-seen order.
pub fn upsert_records(rows: &mut Vec<RecordRow>, more: Vec<RecordRow>) {
    let mut index: HashMap<String, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    for record in more {
        match index.get(&record.id) {
            Some(&i) => rows[i] = record,
            None => {
                index.insert(record.id.clone(), rows.len());
                rows.push(record);
            }
        }
    }
}

/// Events received through PutEvents for one dataset group, by user, each with a sequence number
/// so that serving can pass the engine only the events newer than the model.
#[derive(Clone, Debug, Default)]
pub struct LiveEvents {
    /// Sequence number of the latest event (0 = none yet).
    pub seq: u64,
    pub by_user: HashMap<String, Vec<(u64, InteractionRow)>>,
}

impl LiveEvents {
    /// Records events for a user.
    pub fn push(&mut self, user: &str, events: Vec<InteractionRow>) {
        let list = self.by_user.entry(user.to_string()).or_default();
        for event in events {
            self.seq += 1;
            list.push((self.seq, event));
        }
    }

    /// This user's events with a sequence number above `after`, oldest first.
    pub fn newer_than(&self, user: &str, after: u64) -> Vec<InteractionRow> {
        self.by_user
            .get(user)
            .map(|list| {
                let start = list.partition_point(|(seq, _)| *seq <= after);
                list[start..].iter().map(|(_, e)| e.clone()).collect()
            })
            .unwrap_or_default()
    }

    /// Every event, in no particular user order (each user's events oldest first).
    pub fn all(&self) -> impl Iterator<Item = &InteractionRow> {
        self.by_user.values().flat_map(|l| l.iter().map(|(_, e)| e))
    }

    /// Number of events.
    pub fn count(&self) -> usize {
        self.by_user.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(item: &str) -> InteractionRow {
        InteractionRow {
            user_id: "u".into(),
            item_id: item.into(),
            timestamp: 1,
            event_type: None,
            event_value: None,
        }
    }

    #[test]
    fn newer_than_returns_only_events_after_the_sequence_number() {
        let mut live = LiveEvents::default();
        live.push("u", vec![ev("a"), ev("b")]);
        live.push("v", vec![ev("x")]);
        live.push("u", vec![ev("c")]);
        assert_eq!(live.newer_than("u", 0).len(), 3);
        let newer = live.newer_than("u", 2);
        assert_eq!(newer.len(), 1);
        assert_eq!(newer[0].item_id, "c");
        assert!(live.newer_than("nobody", 0).is_empty());
    }

    #[test]
    fn incremental_records_replace_by_id() {
        let r = |id: &str, n: f64| RecordRow {
            id: id.into(),
            fields: [("N".to_string(), FieldValue::Num(n))].into(),
            created: None,
        };
        let mut rows = DatasetRows::Items(vec![r("a", 1.0), r("b", 1.0)]);
        rows.append(DatasetRows::Items(vec![r("b", 2.0), r("c", 1.0)]));
        let DatasetRows::Items(items) = rows else {
            panic!("kind changed")
        };
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].fields["N"], FieldValue::Num(2.0));
    }
}
