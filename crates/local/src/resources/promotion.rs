//! `promotions` of GetRecommendations, as AWS documents them: a promotion reserves
//! `percentPromotedItems` of the `numResults` slots for the items its own filter keeps, ranked
//! by the model among them; the other slots are the normal recommendations (the request's
//! filter, minus the promoted items). Promoted items keep their order among themselves and sit
//! at positions drawn at random relative to the others; the draw is seeded by the request, so
//! the same request gets the same answer. Each promoted item carries `promotionName`.
//! Depends on the serving bridge and the wire layer; never on the store or the router.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use personalize_engine as engine;

use crate::resources::serving::{self, Inputs, Scored};
use crate::resources::shapes::{PredictedItem, Promotion};
use crate::wire::error::ApiError;
use crate::wire::names::stable_hash;

/// A promotion whose members were checked, its filter resolved.
pub(crate) struct Checked {
    pub(crate) name: String,
    pub(crate) percent: u32,
    pub(crate) filter: Arc<engine::Filter>,
    pub(crate) filter_values: BTreeMap<String, String>,
}

/// The promotion of a request (the model allows one), with its members checked; the filter is
/// resolved by the caller. `None`: no promotion.
pub(crate) fn requested(promotions: Option<&[Promotion]>) -> Result<Option<&Promotion>, ApiError> {
    let Some(promotions) = promotions.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    if promotions.len() > 1 {
        return Err(ApiError::InvalidInput(
            "promotions may list at most 1 promotion".into(),
        ));
    }
    let promotion = &promotions[0];
    if promotion.name.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::InvalidInput(
            "promotions.1.name is required: it names the promotion in the response".into(),
        ));
    }
    match promotion.percent_promoted_items {
        Some(p) if (1..=100).contains(&p) => {}
        Some(p) => {
            return Err(ApiError::InvalidInput(format!(
                "promotions.1.percentPromotedItems is {p}; it must be between 1 and 100"
            )));
        }
        None => {
            return Err(ApiError::InvalidInput(
                "promotions.1.percentPromotedItems is required".into(),
            ));
        }
    }
    if promotion.filter_arn.is_none() {
        return Err(ApiError::InvalidInput(
            "promotions.1.filterArn is required: the filter selects the promoted items".into(),
        ));
    }
    if promotion
        .filter_values
        .as_ref()
        .is_some_and(|v| v.len() > 25)
    {
        return Err(ApiError::InvalidInput(
            "promotions.1.filterValues may have at most 25 entries".into(),
        ));
    }
    Ok(Some(promotion))
}

/// The slots a promotion takes out of `num_results`: the percentage, rounded to the nearest
/// item, and at least one (a promotion is never a no-op).
fn promoted_slots(num_results: usize, percent: u32) -> usize {
    if num_results == 0 {
        return 0;
    }
    ((num_results * percent as usize + 50) / 100).clamp(1, num_results)
}

/// What a recommendation request asks the engine, apart from the inputs.
pub(crate) struct Ask<'a> {
    pub(crate) user_id: Option<&'a str>,
    pub(crate) item_id: Option<&'a str>,
    pub(crate) num_results: usize,
    pub(crate) filter_values: &'a BTreeMap<String, String>,
    pub(crate) exploration: engine::Exploration,
    /// Identifies the request (source ARN, user, item): seeds the promoted positions.
    pub(crate) seed: &'a [&'a str],
}

fn predicted(scored: Vec<Scored>, promotion: Option<&str>) -> Vec<PredictedItem> {
    scored
        .into_iter()
        .map(|s| PredictedItem {
            item_id: s.item_id,
            score: s.score,
            metadata: None,
            promotion_name: promotion.map(str::to_string),
        })
        .collect()
}

/// GetRecommendations with an optional promotion.
pub(crate) fn recommend(
    inputs: &Inputs,
    ask: &Ask<'_>,
    promotion: Option<&Checked>,
) -> Result<Vec<PredictedItem>, ApiError> {
    let normal = |n: usize| {
        serving::recommend(
            inputs,
            ask.user_id,
            ask.item_id,
            n,
            ask.filter_values,
            ask.exploration,
        )
    };
    let Some(promotion) = promotion else {
        return Ok(predicted(normal(ask.num_results)?, None));
    };
    let slots = promoted_slots(ask.num_results, promotion.percent);
    let promoted_inputs = Inputs {
        model: Arc::clone(&inputs.model),
        catalog: Arc::clone(&inputs.catalog),
        live: inputs.live.clone(),
        filter: Some(Arc::clone(&promotion.filter)),
    };
    let promoted = serving::recommend(
        &promoted_inputs,
        ask.user_id,
        ask.item_id,
        slots,
        &promotion.filter_values,
        engine::Exploration::NONE,
    )?;
    let taken: HashSet<&str> = promoted.iter().map(|s| s.item_id.as_str()).collect();
    let mut rest: Vec<Scored> = normal(ask.num_results)?
        .into_iter()
        .filter(|s| !taken.contains(s.item_id.as_str()))
        .collect();
    rest.truncate(ask.num_results - promoted.len());
    let positions = promoted_positions(
        ask.seed,
        &promotion.name,
        rest.len() + promoted.len(),
        promoted.len(),
    );
    Ok(interleave(
        predicted(promoted, Some(&promotion.name)),
        predicted(rest, None),
        &positions,
    ))
}

/// `count` distinct positions out of `0..total`, ascending, drawn deterministically from the
/// request (`seed`) and the promotion's name.
fn promoted_positions(seed: &[&str], name: &str, total: usize, count: usize) -> Vec<usize> {
    let mut parts = seed.to_vec();
    parts.push(name);
    let base = format!("{:016x}", stable_hash(&parts));
    let mut order: Vec<(u64, usize)> = (0..total)
        .map(|i| (stable_hash(&[&base, &i.to_string()]), i))
        .collect();
    order.sort_unstable();
    let mut positions: Vec<usize> = order.into_iter().take(count).map(|(_, i)| i).collect();
    positions.sort_unstable();
    positions
}

/// The promoted items at `positions` (in their order), the others in theirs around them.
fn interleave(
    promoted: Vec<PredictedItem>,
    rest: Vec<PredictedItem>,
    positions: &[usize],
) -> Vec<PredictedItem> {
    let total = promoted.len() + rest.len();
    let mut promoted = promoted.into_iter();
    let mut rest = rest.into_iter();
    let mut out = Vec::with_capacity(total);
    for i in 0..total {
        let next = if positions.binary_search(&i).is_ok() {
            promoted.next()
        } else {
            rest.next()
        };
        out.extend(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, promotion: Option<&str>) -> PredictedItem {
        PredictedItem {
            item_id: id.into(),
            score: 0.0,
            metadata: None,
            promotion_name: promotion.map(str::to_string),
        }
    }

    #[test]
    fn slots_are_the_rounded_percentage_and_at_least_one() {
        assert_eq!(promoted_slots(10, 20), 2);
        assert_eq!(promoted_slots(10, 25), 3);
        assert_eq!(promoted_slots(25, 1), 1);
        assert_eq!(promoted_slots(10, 100), 10);
        assert_eq!(promoted_slots(0, 50), 0);
    }

    #[test]
    fn positions_are_distinct_sorted_and_stable() {
        let a = promoted_positions(&["c", "u1"], "p", 10, 3);
        assert_eq!(a.len(), 3);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a.iter().all(|&p| p < 10));
        assert_eq!(a, promoted_positions(&["c", "u1"], "p", 10, 3));
        let others: HashSet<Vec<usize>> = (0..20)
            .map(|u| promoted_positions(&["c", &format!("u{u}")], "p", 10, 3))
            .collect();
        assert!(others.len() > 5, "positions vary between requests");
    }

    #[test]
    fn interleaving_keeps_both_orders() {
        let promoted = vec![item("p1", Some("x")), item("p2", Some("x"))];
        let rest = vec![item("a", None), item("b", None), item("c", None)];
        let ids: Vec<String> = interleave(promoted, rest, &[1, 4])
            .into_iter()
            .map(|i| i.item_id)
            .collect();
        assert_eq!(ids, ["a", "p1", "b", "c", "p2"]);
    }
}
