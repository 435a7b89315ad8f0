//! User segments (the USER_SEGMENTATION recipes aws-item-affinity and
//! aws-item-attribute-affinity): the users most likely to interact with an item, or with the
//! items whose attributes match a query such as `ITEMS.GENRES = "Action" AND ITEMS.YEAR > 1990`.
//!
//! A user's affinity for a set of items is the mean of the model's scores of those items for
//! the user's training history (recency-weighted as recommendations are), so it is the same
//! score GetRecommendations ranks by. Every training user is scored, in parallel; ties are broken
//! by user order in the training data, so answers are deterministic. Items the user already
//! interacted with are not excluded: a segment names the users most drawn to the items.

use rayon::prelude::*;
use thiserror::Error;

use crate::catalog::Catalog;
use crate::filter::{Filter, parse_filter};
use crate::model::{Model, score_history};

/// The prefix that turns an item-attribute query into a filter expression.
const QUERY_PREFIX: &str = "INCLUDE ItemID WHERE ";

/// A parsed item-attribute query (the input line's `itemAttributes`): `=`, `!=`, `<`, `<=`, `>`,
/// `>=`, `IN (...)`, `NOT IN (...)` on `ITEMS.<COLUMN>`, combined with `AND`, `OR` and
/// parentheses. On a categorical column, `=` holds when the item has that value among its
/// `|`-separated ones.
#[derive(Debug, Clone)]
pub struct ItemAttributes {
    filter: Filter,
}

/// Why an item-attribute query cannot be used.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ItemAttributesError {
    #[error("itemAttributes is not a valid expression at position {position}: {message}")]
    Syntax { position: usize, message: String },
    #[error(
        "itemAttributes may only test item columns (ITEMS.<COLUMN>) with literal values, \
         combined with AND / OR"
    )]
    NotItemColumns,
}

/// Parses an item-attribute query.
pub fn parse_item_attributes(query: &str) -> Result<ItemAttributes, ItemAttributesError> {
    let shift = QUERY_PREFIX.chars().count();
    let filter = parse_filter(&format!("{QUERY_PREFIX}{query}")).map_err(|e| {
        let (position, message) = match e {
            crate::FilterError::Syntax { position, message }
            | crate::FilterError::Unsupported { position, message } => (position, message),
        };
        ItemAttributesError::Syntax {
            position: position.saturating_sub(shift).max(1),
            message,
        }
    })?;
    if !filter.is_item_condition() {
        return Err(ItemAttributesError::NotItemColumns);
    }
    Ok(ItemAttributes { filter })
}

impl ItemAttributes {
    /// Whether the catalog item `id` (`None`: not in the catalog) matches.
    pub fn matches(&self, id: &str, record: Option<&crate::Record>) -> bool {
        let empty = std::collections::BTreeMap::new();
        self.filter
            .bind(&empty, None, None)
            .is_ok_and(|b| b.allows(id, record, &[]))
    }
}

/// What a segment is for.
#[derive(Debug, Clone, Copy)]
pub enum SegmentOf<'a> {
    /// Item-Affinity: one item.
    Item(&'a str),
    /// Item-Attribute-Affinity: the catalog's items that match.
    Attributes(&'a ItemAttributes),
}

/// A user of a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredUser {
    pub user_id: String,
    /// The user's affinity (the mean model score of the segment's items).
    pub score: f64,
}

/// Why a segment cannot be made.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SegmentError {
    #[error("item {0} is not in the solution version's training data")]
    UnknownItem(String),
    #[error("no item of the solution version's training data matches itemAttributes")]
    NoMatchingItems,
}

impl Model {
    /// The `num_results` users with the highest affinity for `of`, best first.
    pub fn segment(
        &self,
        of: SegmentOf<'_>,
        catalog: &Catalog,
        num_results: usize,
    ) -> Result<Vec<ScoredUser>, SegmentError> {
        let targets: Vec<u32> = match of {
            SegmentOf::Item(id) => vec![
                *self
                    .corpus
                    .item_index
                    .get(id)
                    .ok_or_else(|| SegmentError::UnknownItem(id.to_owned()))?,
            ],
            SegmentOf::Attributes(query) => {
                let mut found: Vec<u32> = self
                    .corpus
                    .item_ids
                    .iter()
                    .enumerate()
                    .filter(|(_, id)| query.matches(id, catalog.item(id)))
                    .map(|(i, _)| i as u32)
                    .collect();
                found.sort_unstable();
                found
            }
        };
        if targets.is_empty() {
            return Err(SegmentError::NoMatchingItems);
        }
        Ok(self.top_users(&targets, num_results))
    }

    /// Affinity of every training user for `targets` (mean raw score), best `k` first.
    fn top_users(&self, targets: &[u32], k: usize) -> Vec<ScoredUser> {
        let n_users = self.corpus.n_users();
        let n_items = self.corpus.n_items();
        let decay = self.serving.recency_decay;
        let share = 1.0 / targets.len() as f32;
        let affinity: Vec<f32> = (0..n_users)
            .into_par_iter()
            .map_init(
                || vec![0.0f32; n_items],
                |scores, u| {
                    scores.iter_mut().for_each(|s| *s = 0.0);
                    let history =
                        &self.positives[self.positive_offsets[u]..self.positive_offsets[u + 1]];
                    score_history(&self.scorer, &self.popularity, history, decay, scores);
                    targets.iter().map(|&t| scores[t as usize] * share).sum()
                },
            )
            .collect();
        // Users with equal affinity keep their training order (no popularity among users).
        let order = vec![0.0f32; n_users];
        crate::topk::top_k_where(&affinity, &order, k, |_| true)
            .into_iter()
            .map(|u| ScoredUser {
                user_id: self.corpus.user_ids[u as usize].clone(),
                score: f64::from(affinity[u as usize]),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, FieldValue, Interaction, Record};
    use crate::{Recipe, TrainConfig, train_without_metrics};

    /// 90 users in 3 taste groups; user `u` clicks 12 items of group `u % 3` (items `i` with
    /// `i % 3 == u % 3`), genre `g<i % 3>`.
    fn data() -> Dataset {
        let mut interactions = Vec::new();
        for u in 0..90usize {
            for k in 0..12usize {
                let item = ((u * 5 + k * 7) % 20) * 3 + u % 3;
                interactions.push(Interaction::new(
                    &format!("u{u}"),
                    &format!("i{item}"),
                    1_700_000_000 + (u * 12 + k) as i64,
                    "click",
                ));
            }
        }
        let items = (0..60usize)
            .map(|i| Record {
                id: format!("i{i}"),
                fields: [(
                    "GENRES".to_owned(),
                    FieldValue::List(vec![format!("g{}", i % 3)]),
                )]
                .into_iter()
                .collect(),
                created: None,
            })
            .collect();
        Dataset {
            interactions,
            items,
            users: Vec::new(),
        }
    }

    fn group_of(user: &str) -> usize {
        user[1..].parse::<usize>().expect("u<n>") % 3
    }

    #[test]
    fn item_affinity_ranks_the_items_taste_group_first() {
        let data = data();
        let model =
            train_without_metrics(&data, &TrainConfig::new(Recipe::ItemAffinity)).expect("trains");
        let catalog = Catalog::new(data.items.clone(), Vec::new());
        let users = model
            .segment(SegmentOf::Item("i4"), &catalog, 10)
            .expect("segment");
        assert_eq!(users.len(), 10);
        assert!(users.iter().all(|u| group_of(&u.user_id) == 1), "{users:?}");
        assert!(users.windows(2).all(|w| w[0].score >= w[1].score));
        assert_eq!(
            model.segment(SegmentOf::Item("nope"), &catalog, 5),
            Err(SegmentError::UnknownItem("nope".into()))
        );
    }

    #[test]
    fn item_attribute_affinity_uses_the_matching_items() {
        let data = data();
        let model = train_without_metrics(&data, &TrainConfig::new(Recipe::ItemAttributeAffinity))
            .expect("trains");
        let catalog = Catalog::new(data.items.clone(), Vec::new());
        let query = parse_item_attributes(r#"ITEMS.GENRES = "g2""#).expect("parses");
        let users = model
            .segment(SegmentOf::Attributes(&query), &catalog, 15)
            .expect("segment");
        assert!(users.iter().all(|u| group_of(&u.user_id) == 2), "{users:?}");
        let either = parse_item_attributes(r#"ITEMS.genres IN ("g0") OR ITEMS.GENRES = "g1""#)
            .expect("parses");
        let users = model
            .segment(SegmentOf::Attributes(&either), &catalog, 30)
            .expect("segment");
        assert!(users.iter().all(|u| group_of(&u.user_id) != 2), "{users:?}");
        let none = parse_item_attributes(r#"ITEMS.GENRES = "g0" AND ITEMS.GENRES = "g1""#)
            .expect("parses");
        assert_eq!(
            model.segment(SegmentOf::Attributes(&none), &catalog, 5),
            Err(SegmentError::NoMatchingItems)
        );
    }

    #[test]
    fn item_attribute_queries_are_checked() {
        assert!(parse_item_attributes(r#"ITEMS.GENRES = "a" AND ITEMS.YEAR > 1990"#).is_ok());
        let err = parse_item_attributes(r#"ITEMS.GENRES = "a" AND"#).expect_err("incomplete");
        assert!(matches!(err, ItemAttributesError::Syntax { .. }), "{err}");
        assert_eq!(
            parse_item_attributes(r#"ITEMS.GENRES IN ($G)"#).expect_err("parameter"),
            ItemAttributesError::NotItemColumns
        );
        assert_eq!(
            parse_item_attributes(r#"Interactions.EVENT_TYPE IN ("click")"#)
                .expect_err("interactions"),
            ItemAttributesError::NotItemColumns
        );
        assert!(
            parse_item_attributes(r#"ITEMS.GENRES = "a" | EXCLUDE ItemID WHERE ITEMS.X = 1"#)
                .is_err()
        );
        let q = parse_item_attributes(r#"ITEMS.GENRES = "a""#).expect("parses");
        let record = Record {
            id: "x".into(),
            fields: [(
                "GENRES".to_owned(),
                FieldValue::List(vec!["b".into(), "a".into()]),
            )]
            .into_iter()
            .collect(),
            created: None,
        };
        assert!(q.matches("x", Some(&record)));
        assert!(!q.matches("x", None));
    }
}
