//! The training corpus: user and item ids interned to dense indexes, each user's events in time
//! order, and which events count for training (eventType / eventValueThreshold, and the
//! per-event-type thresholds and weights of `eventsConfig`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::Interaction;
use crate::train::EventParameter;

/// Which events count as positive interactions for the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct EventRule {
    pub(crate) event_type: Option<String>,
    pub(crate) value_threshold: Option<f64>,
    /// `eventsConfig`: when not empty, only these event types count, each above its own
    /// threshold and with a weight > 0 (models saved before it read as empty).
    #[serde(default)]
    pub(crate) event_parameters: Vec<EventParameter>,
}

impl EventRule {
    pub(crate) fn qualifies(&self, event_type: &str, value: Option<f64>) -> bool {
        if let Some(t) = &self.event_type
            && t != event_type
        {
            return false;
        }
        if !self.event_parameters.is_empty() {
            match self.parameter(event_type) {
                Some(p) if p.weight > 0.0 && above(p.event_value_threshold, value) => {}
                _ => return false,
            }
        }
        above(self.value_threshold, value)
    }

    fn parameter(&self, event_type: &str) -> Option<&EventParameter> {
        self.event_parameters
            .iter()
            .find(|p| p.event_type == event_type)
    }

    fn max_weight(&self) -> f64 {
        self.event_parameters
            .iter()
            .map(|p| p.weight)
            .fold(0.0f64, f64::max)
    }

    /// The training weight of an event of this type: its `eventsConfig` weight over the largest
    /// one (only their ratio matters), 1 without an `eventsConfig`.
    pub(crate) fn weight(&self, event_type: &str) -> f32 {
        let max = self.max_weight();
        match self.parameter(event_type) {
            Some(p) if max > 0.0 => (p.weight / max) as f32,
            Some(_) => 0.0,
            None => 1.0,
        }
    }

    /// The mean of the listed types' weights on the scale of [`EventRule::weight`] (a target's
    /// gain in the event-weighted NDCG is its weight over this); `None` without `eventsConfig`.
    pub(crate) fn mean_weight(&self) -> Option<f64> {
        let (max, n) = (self.max_weight(), self.event_parameters.len());
        (n > 0 && max > 0.0).then(|| {
            let sum: f64 = self.event_parameters.iter().map(|p| p.weight / max).sum();
            sum / n as f64
        })
    }
}

/// Whether `value` passes `threshold` (events without a value always do).
fn above(threshold: Option<f64>, value: Option<f64>) -> bool {
    match (threshold, value) {
        (Some(th), Some(v)) => v >= th,
        _ => true,
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

    /// Each positive sequence's training weights (aligned with [`Corpus::sequences`]): an
    /// item's weight is the largest [`EventRule::weight`] of the user's qualifying events on
    /// it. `None` when every weight is 1 (no `eventsConfig`).
    pub(crate) fn sequence_weights(&self, rule: &EventRule) -> Option<Vec<Vec<f32>>> {
        if rule.event_parameters.is_empty() {
            return None;
        }
        let by_event: Vec<f32> = self.event_types.iter().map(|t| rule.weight(t)).collect();
        let weights = (0..self.n_users())
            .map(|u| {
                let mut best: HashMap<u32, f32> = HashMap::new();
                for k in self.range(u).filter(|&k| self.qualifies[k]) {
                    let w = by_event[self.events[k] as usize];
                    let slot = best.entry(self.items[k]).or_insert(0.0);
                    *slot = slot.max(w);
                }
                self.sequence(u)
                    .iter()
                    .map(|(i, _)| best.get(i).copied().unwrap_or(1.0))
                    .collect()
            })
            .collect();
        Some(weights)
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
