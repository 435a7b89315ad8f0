//! The training corpus: user and item ids interned to dense indexes, each user's events in time
//! order, and which events count for training (eventType / eventValueThreshold).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::Interaction;

/// Which events count as positive interactions for the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct EventRule {
    pub(crate) event_type: Option<String>,
    pub(crate) value_threshold: Option<f64>,
}

impl EventRule {
    pub(crate) fn qualifies(&self, event_type: &str, value: Option<f64>) -> bool {
        if let Some(t) = &self.event_type
            && t != event_type
        {
            return false;
        }
        match (self.value_threshold, value) {
            (Some(th), Some(v)) => v >= th,
            _ => true,
        }
    }
}

/// Interned, time-ordered interactions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Corpus {
    pub(crate) item_ids: Vec<String>,
    pub(crate) item_index: HashMap<String, u32>,
    pub(crate) user_ids: Vec<String>,
    pub(crate) user_index: HashMap<String, u32>,
    pub(crate) event_types: Vec<String>,
    /// User `u`'s events are `offsets[u]..offsets[u + 1]`, sorted by (timestamp, item id).
    pub(crate) offsets: Vec<usize>,
    pub(crate) items: Vec<u32>,
    pub(crate) events: Vec<u16>,
    pub(crate) times: Vec<i64>,
    pub(crate) qualifies: Vec<bool>,
}

/// One user's positive items (qualifying events, each item once at its latest time), oldest first.
pub(crate) type Sequence = Vec<(u32, i64)>;

impl Corpus {
    pub(crate) fn build(interactions: &[Interaction], rule: &EventRule) -> Corpus {
        let mut c = Corpus::default();
        let mut event_index: HashMap<&str, u16> = HashMap::new();
        let mut per_user: Vec<Vec<usize>> = Vec::new();
        for (row, it) in interactions.iter().enumerate() {
            let u = match c.user_index.get(&it.user_id) {
                Some(&u) => u,
                None => {
                    let u = c.user_ids.len() as u32;
                    c.user_index.insert(it.user_id.clone(), u);
                    c.user_ids.push(it.user_id.clone());
                    per_user.push(Vec::new());
                    u
                }
            };
            if !c.item_index.contains_key(&it.item_id) {
                c.item_index
                    .insert(it.item_id.clone(), c.item_ids.len() as u32);
                c.item_ids.push(it.item_id.clone());
            }
            if !event_index.contains_key(it.event_type.as_str()) {
                event_index.insert(it.event_type.as_str(), c.event_types.len() as u16);
                c.event_types.push(it.event_type.clone());
            }
            per_user[u as usize].push(row);
        }
        c.offsets.push(0);
        for rows in &mut per_user {
            rows.sort_by(|&a, &b| {
                let (x, y) = (&interactions[a], &interactions[b]);
                x.timestamp
                    .cmp(&y.timestamp)
                    .then_with(|| x.item_id.cmp(&y.item_id))
            });
            for &row in rows.iter() {
                let it = &interactions[row];
                c.items.push(c.item_index[&it.item_id]);
                c.events.push(event_index[it.event_type.as_str()]);
                c.times.push(it.timestamp);
                c.qualifies
                    .push(rule.qualifies(&it.event_type, it.event_value));
            }
            c.offsets.push(c.items.len());
        }
        c
    }

    pub(crate) fn n_items(&self) -> usize {
        self.item_ids.len()
    }

    pub(crate) fn n_users(&self) -> usize {
        self.user_ids.len()
    }

    pub(crate) fn range(&self, u: usize) -> std::ops::Range<usize> {
        self.offsets[u]..self.offsets[u + 1]
    }

    /// The positive sequence of user `u`.
    pub(crate) fn sequence(&self, u: usize) -> Sequence {
        let r = self.range(u);
        dedup_latest(
            r.filter(|&k| self.qualifies[k])
                .map(|k| (self.items[k], self.times[k])),
        )
    }

    /// Positive sequences of all users.
    pub(crate) fn sequences(&self) -> Vec<Sequence> {
        (0..self.n_users()).map(|u| self.sequence(u)).collect()
    }

    /// Number of qualifying interactions.
    pub(crate) fn qualifying_count(&self) -> usize {
        self.qualifies.iter().filter(|&&q| q).count()
    }
}

/// Keeps each item once, at its latest occurrence, preserving time order.
fn dedup_latest(events: impl Iterator<Item = (u32, i64)>) -> Sequence {
    let all: Vec<(u32, i64)> = events.collect();
    let mut seen = std::collections::HashSet::with_capacity(all.len());
    let mut out: Vec<(u32, i64)> = Vec::with_capacity(all.len());
    for &(item, t) in all.iter().rev() {
        if seen.insert(item) {
            out.push((item, t));
        }
    }
    out.reverse();
    out
}
