//! The catalog: item and user records known now (training data plus PutItems / PutUsers),
//! with the indexes recommendation-time code needs (categorical tokens for item similarity), and
//! the cache of cold-item representations built from them (see `cold`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::cold::{ColdCache, ColdItems, WarmItems};
use crate::data::{FieldValue, Record};

/// Items and users known at request time. Built by personalize-local from the imported datasets
/// and kept current with `upsert_item` / `upsert_user`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    items: Vec<Record>,
    /// Categorical tokens of each item (parallel to `items`), for metadata similarity.
    tokens: Vec<Vec<String>>,
    item_pos: HashMap<String, usize>,
    /// (created, position) of items that have a creation time, for exploration.
    by_created: BTreeSet<(i64, usize)>,
    users: HashMap<String, Record>,
    /// Cold-item representations per model, valid until an item changes.
    #[serde(skip)]
    cold: ColdCache,
}

impl Catalog {
    /// Builds a catalog; a later record with the same id replaces an earlier one.
    pub fn new(items: Vec<Record>, users: Vec<Record>) -> Self {
        let mut catalog = Catalog::default();
        for item in items {
            catalog.upsert_item(item);
        }
        for user in users {
            catalog.upsert_user(user);
        }
        catalog
    }

    /// Adds or replaces an item (PutItems).
    pub fn upsert_item(&mut self, record: Record) {
        self.cold.clear();
        let tokens = categorical_tokens(&record);
        let created = record.created;
        let pos = match self.item_pos.get(&record.id) {
            Some(&pos) => {
                if let Some(old) = self.items[pos].created {
                    self.by_created.remove(&(old, pos));
                }
                self.items[pos] = record;
                self.tokens[pos] = tokens;
                pos
            }
            None => {
                self.item_pos.insert(record.id.clone(), self.items.len());
                self.items.push(record);
                self.tokens.push(tokens);
                self.items.len() - 1
            }
        };
        if let Some(c) = created {
            self.by_created.insert((c, pos));
        }
    }

    /// Adds or replaces a user (PutUsers).
    pub fn upsert_user(&mut self, record: Record) {
        self.users.insert(record.id.clone(), record);
    }

    /// The item record, if known.
    pub fn item(&self, id: &str) -> Option<&Record> {
        self.item_pos.get(id).map(|&pos| &self.items[pos])
    }

    /// The user record, if known.
    pub fn user(&self, id: &str) -> Option<&Record> {
        self.users.get(id)
    }

    /// All items, in insertion order.
    pub fn items(&self) -> impl Iterator<Item = &Record> {
        self.items.iter()
    }

    /// Items with their categorical tokens.
    pub(crate) fn items_with_tokens(&self) -> impl Iterator<Item = (&Record, &[String])> {
        self.items.iter().zip(self.tokens.iter().map(Vec::as_slice))
    }

    /// The categorical tokens of an item, if known.
    pub(crate) fn item_tokens(&self, id: &str) -> Option<&[String]> {
        self.item_pos
            .get(id)
            .map(|&pos| self.tokens[pos].as_slice())
    }

    /// The catalog position of an item, if known.
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.item_pos.get(id).copied()
    }

    /// The item at a catalog position.
    pub(crate) fn item_at(&self, pos: usize) -> &Record {
        &self.items[pos]
    }

    /// The items the model described by `warm` does not know, with their representations
    /// (built on first use per model, then cached until an item changes).
    pub(crate) fn cold_items(&self, warm: &WarmItems<'_>) -> std::sync::Arc<ColdItems> {
        self.cold.get(self, warm)
    }

    /// Items created at or after `since` (epoch seconds), oldest first.
    pub(crate) fn items_created_since(&self, since: i64) -> impl Iterator<Item = &Record> {
        self.by_created
            .range((since, 0)..)
            .map(|&(_, pos)| &self.items[pos])
    }

    /// Number of items.
    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    /// Number of users.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }
}

/// Categorical tokens of a record (`FIELD=value`, upper-cased field, for every string or list
/// field), used by metadata similarity. Numeric fields do not take part.
pub(crate) fn categorical_tokens(record: &Record) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let fields: BTreeMap<String, &FieldValue> = record
        .fields
        .iter()
        .map(|(k, v)| (k.to_ascii_uppercase(), v))
        .collect();
    for (name, value) in fields {
        if name == "ITEM_ID" || name == "CREATION_TIMESTAMP" {
            continue;
        }
        for cat in value.categories() {
            if !cat.is_empty() {
                tokens.push(format!("{name}={cat}"));
            }
        }
    }
    tokens.sort();
    tokens.dedup();
    tokens
}

/// Words a text field needs to count as text (a shorter string is a categorical value).
const TEXT_MIN_WORDS: usize = 3;
/// Words shorter than this are left out of text tokens.
const TEXT_MIN_WORD_LEN: usize = 3;
/// Frequent English words left out of text tokens.
const STOP_WORDS: [&str; 24] = [
    "and", "are", "but", "for", "from", "has", "have", "her", "his", "its", "not", "one", "our",
    "she", "that", "the", "their", "they", "this", "was", "were", "who", "with", "you",
];

/// The metadata of an item as cold items are represented from it: categorical tokens
/// (`FIELD=value`, as [`categorical_tokens`] but without text) and text tokens (`FIELD~word`,
/// lower-cased words of every string field of [`TEXT_MIN_WORDS`] words or more), each sorted.
pub(crate) fn metadata_tokens(record: &Record) -> (Vec<String>, Vec<String>) {
    let (mut categorical, mut text) = (Vec::new(), Vec::new());
    for (name, value) in &record.fields {
        let name = name.to_ascii_uppercase();
        if name == "ITEM_ID" || name == "CREATION_TIMESTAMP" {
            continue;
        }
        match value {
            FieldValue::Str(s) if s.split_whitespace().count() >= TEXT_MIN_WORDS => {
                let words = s
                    .split(|c: char| !c.is_alphanumeric())
                    .map(str::to_lowercase)
                    .filter(|w| w.chars().count() >= TEXT_MIN_WORD_LEN)
                    .filter(|w| !STOP_WORDS.contains(&w.as_str()));
                text.extend(words.map(|w| format!("{name}~{w}")));
            }
            _ => categorical.extend(
                value
                    .categories()
                    .into_iter()
                    .filter(|c| !c.is_empty())
                    .map(|c| format!("{name}={c}")),
            ),
        }
    }
    for tokens in [&mut categorical, &mut text] {
        tokens.sort();
        tokens.dedup();
    }
    (categorical, text)
}

/// Jaccard similarity of two sorted token lists.
pub(crate) fn jaccard(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f32 / (a.len() + b.len() - common) as f32
}
