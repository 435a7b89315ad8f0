//! Imported and streamed data as the store keeps it: interaction rows, item/user records and the
//! live events received through PutEvents. Plain serde types, independent of the engine (the
//! engine facade in `training.rs` / `serving.rs` converts them).

use std::collections::{BTreeMap, HashMap, HashSet};

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
    /// The other columns of an imported row (its schema's own fields, IMPRESSION,
    /// RECOMMENDATION_ID, ...), as written in the CSV (empty ones left out): no recipe served
    /// here trains on them; a dataset export job writes them back. None for PutEvents events.
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Box<BTreeMap<String, String>>>,
    /// The event's eventId (PutActionInteractions): later events with the same id are not
    /// trained on.
    #[serde(rename = "id", default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

#[cfg(test)]
impl InteractionRow {
    /// A `click` of `user` on `item` at `timestamp`, with nothing else, for tests.
    pub(crate) fn click(user: &str, item: &str, timestamp: i64) -> InteractionRow {
        InteractionRow {
            user_id: user.into(),
            item_id: item.into(),
            timestamp,
            event_type: Some("click".into()),
            event_value: None,
            extra: None,
            event_id: None,
        }
    }
}

/// What a metric value is attributed to: the metric's name, the event attribution source and the
/// start of the 15-minute window (epoch seconds) the events fell in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TallyKey {
    #[serde(rename = "m")]
    pub metric: String,
    #[serde(rename = "s")]
    pub source: String,
    #[serde(rename = "w")]
    pub window: i64,
}

/// A metric value attributed to a [`TallyKey`] (a count for `SAMPLECOUNT()`, a sum for `SUM()`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    #[serde(flatten)]
    pub key: TallyKey,
    #[serde(rename = "v")]
    pub value: f64,
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
    /// Put through PutItems / PutUsers (else imported by a dataset import job): what a dataset
    /// export job's `ingestionMode` selects on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub put: bool,
}

/// The rows of one dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DatasetRows {
    Interactions(Vec<InteractionRow>),
    Items(Vec<RecordRow>),
    Users(Vec<RecordRow>),
    /// Actions (Next-Best-Action), by ACTION_ID.
    Actions(Vec<RecordRow>),
    /// Action interactions (Next-Best-Action), `item_id` holding the ACTION_ID: imported, then
    /// appended by PutActionInteractions.
    ActionInteractions(Vec<InteractionRow>),
}

impl DatasetRows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            DatasetRows::Interactions(rows) | DatasetRows::ActionInteractions(rows) => rows.len(),
            DatasetRows::Items(rows) | DatasetRows::Users(rows) | DatasetRows::Actions(rows) => {
                rows.len()
            }
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `other` (INCREMENTAL import): interactions are added, records replace by id.
    /// Returns the records replaced.
    pub fn append(&mut self, other: DatasetRows) -> Vec<RecordRow> {
        match (self, other) {
            (DatasetRows::Interactions(rows), DatasetRows::Interactions(more))
            | (DatasetRows::ActionInteractions(rows), DatasetRows::ActionInteractions(more)) => {
                rows.extend(more);
                Vec::new()
            }
            (DatasetRows::Items(rows), DatasetRows::Items(more))
            | (DatasetRows::Users(rows), DatasetRows::Users(more))
            | (DatasetRows::Actions(rows), DatasetRows::Actions(more)) => {
                upsert_records(rows, more)
            }
            (this, other) => {
                *this = other;
                Vec::new()
            }
        }
    }

    /// Removes every row of the users in `users` (interactions and action interactions by
    /// USER_ID, user records by id); returns the ids of the users that had rows.
    pub fn remove_users(&mut self, users: &HashSet<String>) -> HashSet<String> {
        let mut found = HashSet::new();
        match self {
            DatasetRows::Interactions(rows) | DatasetRows::ActionInteractions(rows) => {
                rows.retain(|r| {
                    let gone = users.contains(&r.user_id);
                    if gone && !found.contains(&r.user_id) {
                        found.insert(r.user_id.clone());
                    }
                    !gone
                });
            }
            DatasetRows::Users(rows) => {
                rows.retain(|r| {
                    let gone = users.contains(&r.id);
                    if gone {
                        found.insert(r.id.clone());
                    }
                    !gone
                });
            }
            DatasetRows::Items(_) | DatasetRows::Actions(_) => {}
        }
        found
    }
}

/// Replaces records with the same id, appends new ones, keeping first-seen order. Returns the
/// records replaced (a record equal to the one it would replace is not).
pub fn upsert_records(rows: &mut Vec<RecordRow>, more: Vec<RecordRow>) -> Vec<RecordRow> {
    let mut index: HashMap<String, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    let mut replaced = Vec::new();
    for record in more {
        match index.get(&record.id) {
            // The same record again replaces nothing (exports write it once anyway).
            Some(&i) if rows[i] == record => {}
            Some(&i) => replaced.push(std::mem::replace(&mut rows[i], record)),
            None => {
                index.insert(record.id.clone(), rows.len());
                rows.push(record);
            }
        }
    }
    replaced
}

/// Strings interned to dense `u32` indexes (user ids, item ids, event types of live events).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Box<str>>", into = "Vec<Box<str>>")]
pub struct Interner {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl From<Vec<Box<str>>> for Interner {
    fn from(names: Vec<Box<str>>) -> Self {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        Interner { names, index }
    }
}

impl From<Interner> for Vec<Box<str>> {
    fn from(interner: Interner) -> Self {
        interner.names
    }
}

impl Interner {
    /// The index of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).expect("fewer than 2^32 distinct ids");
        self.names.push(name.into());
        self.index.insert(name.into(), i);
        i
    }

    /// The index of `name`, if known.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The name of index `i` (interned by this interner).
    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// `LiveEvent::event_type` of an event without one.
const NO_EVENT_TYPE: u32 = u32::MAX;

/// One stored live event: 32 bytes and no heap; its ids are interned by the [`LiveEvents`] that
/// holds it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    /// The dataset group's sequence number of the event.
    pub seq: u64,
    pub timestamp: i64,
    /// The event value; NaN when the event has none.
    value: f64,
    item: u32,
    /// [`NO_EVENT_TYPE`] when the event has none.
    event_type: u32,
}

/// A live event with its ids resolved (borrowed from the [`LiveEvents`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventView<'a> {
    pub user_id: &'a str,
    pub item_id: &'a str,
    pub timestamp: i64,
    pub event_type: Option<&'a str>,
    pub event_value: Option<f64>,
}

/// Events received through PutEvents for one dataset group, by user, each with a sequence number
/// so that serving can pass the engine only the events newer than the model.
///
/// Compact: user ids, item ids and event types are interned once per dataset group, and an event
/// is a 32-byte [`LiveEvent`] (1M events take about 32 MB plus the per-user lists' slack).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LiveEvents {
    /// Sequence number of the latest event (0 = none yet).
    pub seq: u64,
    users: Interner,
    items: Interner,
    event_types: Interner,
    /// Events by user index, each list oldest first (ascending `seq`).
    by_user: Vec<Vec<LiveEvent>>,
    count: usize,
}

impl LiveEvents {
    /// Records events for a user, numbering them after the latest.
    pub fn push(&mut self, user: &str, events: Vec<InteractionRow>) {
        for event in &events {
            self.seq += 1;
            self.insert(user, self.seq, event);
        }
    }

    /// Records one event with a given sequence number (above every earlier one of this user).
    fn insert(&mut self, user: &str, seq: u64, row: &InteractionRow) {
        let u = self.users.intern(user) as usize;
        if u == self.by_user.len() {
            self.by_user.push(Vec::new());
        }
        let event = LiveEvent {
            seq,
            timestamp: row.timestamp,
            value: row.event_value.unwrap_or(f64::NAN),
            item: self.items.intern(&row.item_id),
            event_type: row
                .event_type
                .as_deref()
                .map_or(NO_EVENT_TYPE, |t| self.event_types.intern(t)),
        };
        self.by_user[u].push(event);
        self.seq = self.seq.max(seq);
        self.count += 1;
    }

    /// Releases the slack of the per-user lists (after a replay).
    pub fn shrink_to_fit(&mut self) {
        self.by_user.shrink_to_fit();
        for list in &mut self.by_user {
            list.shrink_to_fit();
        }
    }

    fn view(&self, user: u32, e: &LiveEvent) -> EventView<'_> {
        EventView {
            user_id: self.users.name(user),
            item_id: self.items.name(e.item),
            timestamp: e.timestamp,
            event_type: (e.event_type != NO_EVENT_TYPE)
                .then(|| self.event_types.name(e.event_type)),
            event_value: (!e.value.is_nan()).then_some(e.value),
        }
    }

    /// This user's events with a sequence number above `after`, oldest first.
    pub fn newer_than(&self, user: &str, after: u64) -> impl Iterator<Item = EventView<'_>> {
        let (u, list): (u32, &[LiveEvent]) = match self.users.get(user) {
            Some(u) => (u, &self.by_user[u as usize]),
            None => (0, &[]),
        };
        let start = list.partition_point(|e| e.seq <= after);
        list[start..].iter().map(move |e| self.view(u, e))
    }

    /// Every event, user by user (each user's events oldest first).
    pub fn all(&self) -> impl Iterator<Item = EventView<'_>> {
        self.by_user
            .iter()
            .enumerate()
            .flat_map(move |(u, list)| list.iter().map(move |e| self.view(u as u32, e)))
    }

    /// Number of events.
    pub fn count(&self) -> usize {
        self.count
    }

    /// These events without those of the users in `users` (rebuilt, so that nothing of theirs,
    /// not even their interned id, remains), keeping every sequence number; and the ids of the
    /// users that had events.
    pub fn without_users(&self, users: &HashSet<String>) -> (LiveEvents, HashSet<String>) {
        let mut kept = LiveEvents::default();
        let mut found = HashSet::new();
        for (u, list) in self.by_user.iter().enumerate() {
            let name = self.users.name(u as u32);
            if users.contains(name) {
                if !list.is_empty() {
                    found.insert(name.to_string());
                }
                continue;
            }
            for e in list {
                kept.insert(name, e.seq, &self.view(u as u32, e).to_row());
            }
        }
        kept.seq = self.seq;
        (kept, found)
    }
}

impl EventView<'_> {
    /// The event as an owned row.
    pub fn to_row(&self) -> InteractionRow {
        InteractionRow {
            user_id: self.user_id.to_string(),
            item_id: self.item_id.to_string(),
            timestamp: self.timestamp,
            event_type: self.event_type.map(str::to_string),
            event_value: self.event_value,
            extra: None,
            event_id: None,
        }
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
            extra: None,
            event_id: None,
        }
    }

    #[test]
    fn newer_than_returns_only_events_after_the_sequence_number() {
        let mut live = LiveEvents::default();
        live.push("u", vec![ev("a"), ev("b")]);
        live.push("v", vec![ev("x")]);
        live.push("u", vec![ev("c")]);
        assert_eq!(live.newer_than("u", 0).count(), 3);
        let newer: Vec<InteractionRow> = live.newer_than("u", 2).map(|e| e.to_row()).collect();
        assert_eq!(newer, vec![ev("c")]);
        assert_eq!(live.newer_than("nobody", 0).count(), 0);
        assert_eq!(live.count(), 4);
        assert_eq!(live.seq, 4);
    }

    #[test]
    fn without_users_drops_their_events_and_keeps_the_sequence() {
        let mut live = LiveEvents::default();
        live.push("u", vec![ev("a"), ev("b")]);
        live.push("v", vec![ev("x")]);
        live.push("w", vec![ev("y")]);
        let gone: HashSet<String> = ["u".to_string(), "w".to_string(), "nobody".to_string()].into();
        let (kept, found) = live.without_users(&gone);
        assert_eq!(found, ["u".to_string(), "w".to_string()].into());
        assert_eq!(kept.count(), 1);
        assert_eq!(kept.seq, 4);
        assert_eq!(kept.newer_than("u", 0).count(), 0);
        let v: Vec<u64> = kept.by_user.iter().flatten().map(|e| e.seq).collect();
        assert_eq!(v, vec![3]);
        assert!(kept.users.get("u").is_none(), "no trace of a deleted user");
    }

    #[test]
    fn remove_users_drops_interactions_and_user_records() {
        let gone: HashSet<String> = ["u".to_string()].into();
        let mut interactions = DatasetRows::Interactions(vec![ev("a"), ev("b")]);
        assert_eq!(interactions.remove_users(&gone), gone);
        assert!(interactions.is_empty());
        let record = |id: &str| RecordRow {
            id: id.into(),
            fields: BTreeMap::new(),
            created: None,
            put: false,
        };
        let mut users = DatasetRows::Users(vec![record("u"), record("v")]);
        assert_eq!(users.remove_users(&gone), gone);
        assert_eq!(users.len(), 1);
        let mut items = DatasetRows::Items(vec![record("u")]);
        assert!(items.remove_users(&gone).is_empty(), "items are not users");
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn incremental_records_replace_by_id() {
        let r = |id: &str, n: f64| RecordRow {
            id: id.into(),
            fields: [("N".to_string(), FieldValue::Num(n))].into(),
            created: None,
            put: false,
        };
        let mut rows = DatasetRows::Items(vec![r("a", 1.0), r("b", 1.0)]);
        let replaced = rows.append(DatasetRows::Items(vec![r("b", 2.0), r("c", 1.0)]));
        assert_eq!(replaced, vec![r("b", 1.0)]);
        let again = rows.append(DatasetRows::Items(vec![r("b", 2.0)]));
        assert!(again.is_empty(), "an identical record replaces nothing");
        let DatasetRows::Items(items) = rows else {
            panic!("kind changed")
        };
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].fields["N"], FieldValue::Num(2.0));
    }
}
