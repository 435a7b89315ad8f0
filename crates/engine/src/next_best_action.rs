//! Next-Best-Action (`aws-next-best-action`): the probability that a user takes each action of the
//! Actions dataset within the action optimization period, and the documented rules applied to
//! every answer. Pure and deterministic; independent of the item recipes (`model.rs`).
//!
//! Training (see [`train_actions`]):
//! - Labels come from the Action interactions within 6 weeks of the newest one (the span AWS
//!   scores from): a user observed in that span (any TAKEN, NOT_TAKEN or VIEWED event) either took
//!   an action (TAKEN) or did not.
//! - A user's features: the items of their item interactions, the categorical values of those
//!   items (Items dataset), their own categorical fields (Users dataset; categorical values are
//!   `FieldValue::List`) and the other actions they took. Non-categorical strings and numbers are
//!   not features (AWS: non-categorical string data is not used in training).
//! - Per action, the base rate is the smoothed share of observed users who took it; each feature
//!   shifts the log-odds by how much more (or less) often its holders took the action, shrunk
//!   towards the base rate (smoothed naive Bayes). At request time the shifts of each feature
//!   group (items, item categories, user fields, taken actions) are averaged, so no group drowns
//!   the others, and the log-odds become a probability over the observed span, scaled to the
//!   optimization period under a constant daily rate: `1 - (1 - p)^(period / span)`.
//! - As AWS documents, an action is scored only with at least 50 TAKEN and 50 NOT_TAKEN or VIEWED
//!   events in the span; other actions (and actions added after training) score 0.0 and follow
//!   the scored ones (exploration). At most 1000 actions are trained: those without interactions
//!   first, then those with the most recent ones.
//!
//! Serving (see [`ActionModel::recommend`]): candidates are the actions of the Actions dataset
//! now; expired ones (`ACTION_EXPIRATION_TIMESTAMP` at or before `now`) and ones the user took
//! within their `REPEAT_FREQUENCY` days are never returned, and a filter (`ActionID` expressions)
//! applies (reading the user's newest 300 action interactions per event type). Best first: score, then (for scores equal to 4 decimal places) the greater `VALUE`,
//! then the action id.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::{FieldValue, Interaction, Record};
use crate::filter::{Filter, FilterValueError};
use crate::metrics::SolutionMetrics;
use crate::model::Exploration;
use crate::rng::hash_str;

/// The recipe's ARN.
pub const NEXT_BEST_ACTION_ARN: &str = "arn:aws:personalize:::recipe/aws-next-best-action";
/// AWS: the Item interactions dataset must have at least 1000 item interactions.
pub const MIN_ITEM_INTERACTIONS: usize = 1000;
/// AWS: an action has a score after at least 50 TAKEN ...
pub const MIN_TAKEN_TO_SCORE: usize = 50;
/// ... and at least 50 NOT_TAKEN or VIEWED action interactions ...
pub const MIN_NOT_TAKEN_OR_VIEWED_TO_SCORE: usize = 50;
/// ... within 6 weeks of the newest action interaction.
pub const SCORING_SPAN_DAYS: i64 = 42;
/// AWS: training considers at most 1000 actions.
pub const MAX_TRAINED_ACTIONS: usize = 1000;
/// `action_optimization_period`: default and range (days).
pub const DEFAULT_OPTIMIZATION_PERIOD: u32 = 14;
pub const OPTIMIZATION_PERIOD_RANGE: std::ops::RangeInclusive<u32> = 7..=28;
/// Scores equal to this many decimal places are "equally likely" (VALUE decides).
const TIE_DECIMALS: f64 = 1e4;
/// How many pseudo-users pull a feature's take rate towards the action's base rate.
const SHRINKAGE: f64 = 5.0;
/// Features held by fewer observed users carry no weight.
const MIN_FEATURE_SUPPORT: u32 = 2;
const DAY: i64 = 86_400;
/// AWS: filters consider up to 300 of the most recent action interactions per user per event
/// type.
const FILTER_HISTORY: usize = 300;

/// The action interaction event types AWS documents (`Taken`, `Not Taken`, `Viewed`; any case,
/// space or underscore).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionEvent {
    Taken,
    NotTaken,
    Viewed,
}

impl ActionEvent {
    /// Parses an event type, `None` for one AWS does not document.
    pub fn parse(raw: &str) -> Option<ActionEvent> {
        let norm: String = raw
            .trim()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect::<String>()
            .to_ascii_uppercase();
        match norm.as_str() {
            "TAKEN" => Some(ActionEvent::Taken),
            "NOT_TAKEN" => Some(ActionEvent::NotTaken),
            "VIEWED" => Some(ActionEvent::Viewed),
            _ => None,
        }
    }

    /// The canonical name (`TAKEN`, `NOT_TAKEN`, `VIEWED`), as filters compare it.
    pub fn name(self) -> &'static str {
        match self {
            ActionEvent::Taken => "TAKEN",
            ActionEvent::NotTaken => "NOT_TAKEN",
            ActionEvent::Viewed => "VIEWED",
        }
    }
}

/// Everything a Next-Best-Action solution version trains on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionDataset {
    /// Item interactions (`item_id` = ITEM_ID).
    pub item_interactions: Vec<Interaction>,
    /// Action interactions (`item_id` = ACTION_ID, `event_type` TAKEN / NOT_TAKEN / VIEWED).
    pub action_interactions: Vec<Interaction>,
    pub actions: Vec<Record>,
    pub items: Vec<Record>,
    pub users: Vec<Record>,
}

/// Why a Next-Best-Action solution version cannot be trained.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ActionTrainError {
    #[error(
        "not enough data: {have} item interactions; Next-Best-Action needs at least \
         {MIN_ITEM_INTERACTIONS} in the Item interactions dataset"
    )]
    NotEnoughItemInteractions { have: usize },
    #[error("the Actions dataset has no actions; Next-Best-Action recommends from it")]
    NoActions,
    #[error("invalid hyperparameter {name}={value:?}: {reason}")]
    HyperParameter {
        name: String,
        value: String,
        reason: String,
    },
}

/// The optimization period from `algorithmHyperParameters` (the recipe's only hyperparameter).
pub fn optimization_period(hyper: &BTreeMap<String, String>) -> Result<u32, ActionTrainError> {
    if let Some(name) = hyper.keys().find(|k| *k != "action_optimization_period") {
        return Err(ActionTrainError::HyperParameter {
            name: name.clone(),
            value: hyper[name].clone(),
            reason: "aws-next-best-action has only the hyperparameter action_optimization_period"
                .into(),
        });
    }
    let Some(raw) = hyper.get("action_optimization_period") else {
        return Ok(DEFAULT_OPTIMIZATION_PERIOD);
    };
    match raw.trim().parse::<u32>() {
        Ok(days) if OPTIMIZATION_PERIOD_RANGE.contains(&days) => Ok(days),
        _ => Err(ActionTrainError::HyperParameter {
            name: "action_optimization_period".into(),
            value: raw.clone(),
            reason: "must be an integer from 7 to 28 (days)".into(),
        }),
    }
}

/// Feature groups, averaged separately at scoring.
const GROUP_ITEM: u8 = 0;
const GROUP_ITEM_CATEGORY: u8 = 1;
const GROUP_USER_FIELD: u8 = 2;
const GROUP_TAKEN_ACTION: u8 = 3;
const GROUPS: usize = 4;

/// One recommended action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredAction {
    pub action_id: String,
    pub score: f64,
}

/// A GetActionRecommendations request as the model sees it.
#[derive(Debug, Clone, Copy)]
pub struct ActionRequest<'a> {
    pub user_id: &'a str,
    /// The user's record in the Users dataset now, if any.
    pub user: Option<&'a Record>,
    /// The Actions dataset now (PutActions included): the candidates.
    pub actions: &'a [Record],
    /// The user's item interactions recorded after training (PutEvents), oldest first.
    pub live_items: &'a [Interaction],
    /// The user's action interactions recorded after training (PutActionInteractions).
    pub live_actions: &'a [Interaction],
    pub num_results: usize,
    /// A parsed `ActionID` filter and its `$PARAMETER` values.
    pub filter: Option<(&'a Filter, &'a BTreeMap<String, String>)>,
    /// The campaign's `itemExplorationConfig`: the share of the list given to fresh unscored
    /// actions (created within the cut-off, or without a creation time).
    pub exploration: Exploration,
    /// Epoch seconds.
    pub now: i64,
}

/// Why an action request cannot be answered.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ActionRecommendError {
    #[error("filter selects items (ItemID), not actions (ActionID)")]
    NotAnActionFilter,
    #[error(transparent)]
    Filter(#[from] FilterValueError),
}

/// One action interaction a user had, kept for repeat frequency and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Had {
    action: String,
    event: ActionEvent,
    /// The event type as recorded (filters may name it so).
    raw: String,
    timestamp: i64,
}

/// A trained Next-Best-Action solution version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionModel {
    period_days: u32,
    /// Days the labels were observed over (at least 1).
    span_days: f64,
    actions: Vec<String>,
    action_index: HashMap<String, u32>,
    /// Whether each action has enough interactions to be scored.
    scored: Vec<bool>,
    base_logit: Vec<f64>,
    features: HashMap<String, u32>,
    feature_group: Vec<u8>,
    /// By feature: (action, log-odds shift).
    shifts: Vec<Vec<(u32, f32)>>,
    /// Features an item carries (itself and its categorical values).
    item_features: HashMap<String, Vec<u32>>,
    /// Item features of each user's training item interactions.
    user_item_features: HashMap<String, Vec<u32>>,
    /// Each user's training action interactions.
    history: HashMap<String, Vec<Had>>,
    metrics: BTreeMap<String, f64>,
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The categorical values of a record (`FieldValue::List`, as personalize-local gives the
/// schema's categorical fields), as `FIELD=value` (value lower-cased).
fn categories(record: &Record) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value) in &record.fields {
        if let FieldValue::List(values) = value {
            let name = name.to_ascii_uppercase();
            for v in values {
                out.push(format!("{name}={}", v.to_ascii_lowercase()));
            }
        }
    }
    out
}

/// A number field of a record (numbers given as strings count).
fn number(record: &Record, name: &str) -> Option<f64> {
    match record.field(name)? {
        FieldValue::Num(n) => Some(*n),
        FieldValue::Str(s) => s.trim().parse().ok(),
        FieldValue::List(_) => None,
    }
}

/// Builds features while training.
#[derive(Default)]
struct Features {
    index: HashMap<String, u32>,
    group: Vec<u8>,
}

impl Features {
    fn id(&mut self, key: String, group: u8) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.group.len() as u32;
        self.index.insert(key, i);
        self.group.push(group);
        i
    }
}

/// The actions trained on: all of them, or (over [`MAX_TRAINED_ACTIONS`]) those without
/// interactions first, then those with the most recent interactions; dataset order kept.
fn trained_actions(actions: &[Record], latest: &HashMap<&str, i64>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let ids: Vec<&str> = actions
        .iter()
        .map(|a| a.id.as_str())
        .filter(|id| seen.insert(*id))
        .collect();
    if ids.len() <= MAX_TRAINED_ACTIONS {
        return ids.into_iter().map(str::to_owned).collect();
    }
    let mut by_priority: Vec<(usize, &str)> = ids.iter().copied().enumerate().collect();
    by_priority.sort_by_key(|(i, id)| match latest.get(id) {
        None => (0, i64::MIN, *i),
        Some(t) => (1, -*t, *i),
    });
    let mut keep: Vec<(usize, &str)> = by_priority.into_iter().take(MAX_TRAINED_ACTIONS).collect();
    keep.sort_unstable();
    keep.into_iter().map(|(_, id)| id.to_owned()).collect()
}

/// Trains a Next-Best-Action model with `period_days` (see [`optimization_period`]). Solution
/// metrics are measured on a held-out 10% of the observed users who took an action.
pub fn train_actions(
    data: &ActionDataset,
    period_days: u32,
) -> Result<ActionModel, ActionTrainError> {
    if data.item_interactions.len() < MIN_ITEM_INTERACTIONS {
        return Err(ActionTrainError::NotEnoughItemInteractions {
            have: data.item_interactions.len(),
        });
    }
    if data.actions.is_empty() {
        return Err(ActionTrainError::NoActions);
    }
    let held_out = |user: &str| hash_str(0x6e_6261, user).is_multiple_of(10);
    let probe = fit(data, period_days, &|u| held_out(u));
    let mut model = fit(data, period_days, &|_| false);
    model.metrics = probe.evaluate(data, &|u| held_out(u));
    Ok(model)
}

/// Fits the model on every observed user but those `skip` names.
fn fit(data: &ActionDataset, period_days: u32, skip: &dyn Fn(&str) -> bool) -> ActionModel {
    let mut latest: HashMap<&str, i64> = HashMap::new();
    let mut parsed: Vec<(&Interaction, ActionEvent)> = Vec::new();
    for i in &data.action_interactions {
        if let Some(event) = ActionEvent::parse(&i.event_type) {
            parsed.push((i, event));
            let t = latest.entry(i.item_id.as_str()).or_insert(i.timestamp);
            *t = (*t).max(i.timestamp);
        }
    }
    let actions = trained_actions(&data.actions, &latest);
    let action_index: HashMap<String, u32> = actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.clone(), i as u32))
        .collect();
    let end = parsed.iter().map(|(i, _)| i.timestamp).max().unwrap_or(0);
    let start = end - SCORING_SPAN_DAYS * DAY;
    let in_span: Vec<(&Interaction, ActionEvent, u32)> = parsed
        .iter()
        .filter(|(i, _)| i.timestamp >= start)
        .filter_map(|(i, e)| Some((*i, *e, *action_index.get(&i.item_id)?)))
        .collect();
    let first = in_span
        .iter()
        .map(|(i, _, _)| i.timestamp)
        .min()
        .unwrap_or(end);
    let span_days = ((end - first) as f64 / DAY as f64).max(1.0);

    // Which actions have enough events to be scored (all observed users count).
    let mut taken_events = vec![0usize; actions.len()];
    let mut other_events = vec![0usize; actions.len()];
    for (_, event, a) in &in_span {
        match event {
            ActionEvent::Taken => taken_events[*a as usize] += 1,
            _ => other_events[*a as usize] += 1,
        }
    }
    let scored: Vec<bool> = (0..actions.len())
        .map(|a| {
            taken_events[a] >= MIN_TAKEN_TO_SCORE
                && other_events[a] >= MIN_NOT_TAKEN_OR_VIEWED_TO_SCORE
        })
        .collect();

    // Features.
    let mut features = Features::default();
    let item_records: HashMap<&str, &Record> =
        data.items.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut item_features: HashMap<String, Vec<u32>> = HashMap::new();
    let mut user_item_features: HashMap<String, BTreeSet<u32>> = HashMap::new();
    for i in &data.item_interactions {
        let ids = item_features.entry(i.item_id.clone()).or_insert_with(|| {
            let mut ids = vec![features.id(format!("i:{}", i.item_id), GROUP_ITEM)];
            if let Some(record) = item_records.get(i.item_id.as_str()) {
                for c in categories(record) {
                    ids.push(features.id(format!("c:{c}"), GROUP_ITEM_CATEGORY));
                }
            }
            ids
        });
        user_item_features
            .entry(i.user_id.clone())
            .or_default()
            .extend(ids.iter().copied());
    }
    let user_records: HashMap<&str, &Record> =
        data.users.iter().map(|r| (r.id.as_str(), r)).collect();
    let taken_feature: Vec<u32> = actions
        .iter()
        .map(|a| features.id(format!("a:{a}"), GROUP_TAKEN_ACTION))
        .collect();

    // Observed users, their features and what they took.
    let mut observed: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (i, event, a) in &in_span {
        if skip(&i.user_id) {
            continue;
        }
        let took = observed.entry(i.user_id.as_str()).or_default();
        if *event == ActionEvent::Taken {
            took.insert(*a);
        }
    }
    let users = observed.len() as f64;
    let mut takers = vec![0u32; actions.len()];
    let mut support: Vec<u32> = Vec::new();
    let mut joint: HashMap<(u32, u32), u32> = HashMap::new();
    for (user, took) in &observed {
        let mut own: BTreeSet<u32> = user_item_features.get(*user).cloned().unwrap_or_default();
        if let Some(record) = user_records.get(user) {
            for c in categories(record) {
                own.insert(features.id(format!("u:{c}"), GROUP_USER_FIELD));
            }
        }
        own.extend(took.iter().map(|a| taken_feature[*a as usize]));
        for a in took {
            takers[*a as usize] += 1;
        }
        for f in own {
            if support.len() <= f as usize {
                support.resize(f as usize + 1, 0);
            }
            support[f as usize] += 1;
            for a in took {
                *joint.entry((f, *a)).or_default() += 1;
            }
        }
    }
    support.resize(features.group.len(), 0);
    let base: Vec<f64> = takers
        .iter()
        .map(|&k| (f64::from(k) + 1.0) / (users + 2.0))
        .collect();
    let mut shifts: Vec<Vec<(u32, f32)>> = vec![Vec::new(); features.group.len()];
    for (f, &n) in support.iter().enumerate() {
        if n < MIN_FEATURE_SUPPORT {
            continue;
        }
        let f = f as u32;
        for (a, p) in base.iter().enumerate() {
            let a = a as u32;
            if taken_feature[a as usize] == f {
                continue; // "took this action" says nothing new about taking it
            }
            let k = f64::from(joint.get(&(f, a)).copied().unwrap_or(0));
            let conditional = (k + SHRINKAGE * p) / (f64::from(n) + SHRINKAGE);
            let shift = logit(conditional) - logit(*p);
            if shift.abs() >= 1e-4 {
                shifts[f as usize].push((a, shift as f32));
            }
        }
    }

    let mut history: HashMap<String, Vec<Had>> = HashMap::new();
    for (i, event) in &parsed {
        history.entry(i.user_id.clone()).or_default().push(Had {
            action: i.item_id.clone(),
            event: *event,
            raw: i.event_type.clone(),
            timestamp: i.timestamp,
        });
    }
    ActionModel {
        period_days,
        span_days,
        action_index,
        scored,
        base_logit: base.iter().map(|p| logit(*p)).collect(),
        features: features.index,
        feature_group: features.group,
        shifts,
        item_features,
        user_item_features: user_item_features
            .into_iter()
            .map(|(u, f)| (u, f.into_iter().collect()))
            .collect(),
        history,
        actions,
        metrics: BTreeMap::new(),
    }
}

impl ActionModel {
    /// The optimization period (days) the scores are for.
    pub fn period_days(&self) -> u32 {
        self.period_days
    }

    /// GetSolutionMetrics: ranking metrics of the held-out users' taken actions.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        self.metrics.clone()
    }

    /// Whether `action_id` was trained with enough interactions to be scored.
    pub fn is_scored(&self, action_id: &str) -> bool {
        self.action_index
            .get(action_id)
            .is_some_and(|&a| self.scored[a as usize])
    }

    /// The propensity of every trained action for a user with `items` (item features),
    /// `user` (record) and `taken` (actions taken), scaled to the optimization period; 0.0 for
    /// unscored actions.
    fn propensities(
        &self,
        items: &BTreeSet<u32>,
        user: Option<&Record>,
        taken: &BTreeSet<&str>,
    ) -> Vec<f64> {
        let mut own = items.clone();
        if let Some(record) = user {
            own.extend(
                categories(record)
                    .into_iter()
                    .filter_map(|c| self.features.get(&format!("u:{c}")).copied()),
            );
        }
        own.extend(
            taken
                .iter()
                .filter_map(|a| self.features.get(&format!("a:{a}")).copied()),
        );
        let mut count = [0usize; GROUPS];
        let mut sums = vec![[0.0f64; GROUPS]; self.actions.len()];
        for f in own {
            let g = self.feature_group[f as usize] as usize;
            count[g] += 1;
            for &(a, shift) in &self.shifts[f as usize] {
                sums[a as usize][g] += f64::from(shift);
            }
        }
        let exponent = f64::from(self.period_days) / self.span_days;
        (0..self.actions.len())
            .map(|a| {
                if !self.scored[a] {
                    return 0.0;
                }
                let z = self.base_logit[a]
                    + (0..GROUPS)
                        .filter(|g| count[*g] > 0)
                        .map(|g| sums[a][g] / count[g] as f64)
                        .sum::<f64>();
                (1.0 - (1.0 - sigmoid(z)).powf(exponent)).clamp(0.0, 1.0)
            })
            .collect()
    }

    /// GetActionRecommendations: the user's actions best first (see the module doc).
    pub fn recommend(
        &self,
        req: &ActionRequest<'_>,
    ) -> Result<Vec<ScoredAction>, ActionRecommendError> {
        let bound = match req.filter {
            Some((filter, _)) if !filter.selects_actions() => {
                return Err(ActionRecommendError::NotAnActionFilter);
            }
            Some((filter, values)) => Some(filter.bind(values, Some(req.user_id), req.user)?),
            None => None,
        };
        // The user's action interactions: training history, then live ones.
        let mut had: Vec<(&str, ActionEvent, &str, i64)> = self
            .history
            .get(req.user_id)
            .into_iter()
            .flatten()
            .map(|h| (h.action.as_str(), h.event, h.raw.as_str(), h.timestamp))
            .collect();
        had.extend(req.live_actions.iter().filter_map(|i| {
            Some((
                i.item_id.as_str(),
                ActionEvent::parse(&i.event_type)?,
                i.event_type.as_str(),
                i.timestamp,
            ))
        }));
        let mut last_taken: HashMap<&str, i64> = HashMap::new();
        for (action, event, _, t) in &had {
            if *event == ActionEvent::Taken {
                let e = last_taken.entry(action).or_insert(*t);
                *e = (*e).max(*t);
            }
        }
        let taken: BTreeSet<&str> = last_taken.keys().copied().collect();
        // Filters read the newest FILTER_HISTORY action interactions per event type (AWS's quota).
        let mut for_filters = had.clone();
        for_filters.sort_by_key(|h| std::cmp::Reverse(h.3));
        let mut per_type: HashMap<ActionEvent, usize> = HashMap::new();
        for_filters.retain(|h| {
            let n = per_type.entry(h.1).or_default();
            *n += 1;
            *n <= FILTER_HISTORY
        });
        let mut items: BTreeSet<u32> = self
            .user_item_features
            .get(req.user_id)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        for i in req.live_items {
            items.extend(self.item_features.get(&i.item_id).into_iter().flatten());
        }
        let propensity = self.propensities(&items, req.user, &taken);

        let mut seen = BTreeSet::new();
        let mut out: Vec<(ScoredAction, Option<f64>)> = Vec::new();
        for action in req.actions {
            if !seen.insert(action.id.as_str()) {
                continue;
            }
            let expires = number(action, "ACTION_EXPIRATION_TIMESTAMP")
                .or_else(|| number(action, "EXPIRATION_TIMESTAMP"));
            if expires.is_some_and(|t| t <= req.now as f64) {
                continue;
            }
            if let (Some(days), Some(t)) = (
                number(action, "REPEAT_FREQUENCY"),
                last_taken.get(action.id.as_str()),
            ) && ((req.now - t) as f64) < days * DAY as f64
            {
                continue;
            }
            if let Some(bound) = &bound {
                let events: Vec<&str> = for_filters
                    .iter()
                    .filter(|h| h.0 == action.id)
                    .flat_map(|h| [h.1.name(), h.2])
                    .collect();
                if !bound.allows(&action.id, Some(action), &events) {
                    continue;
                }
            }
            let score = self
                .action_index
                .get(&action.id)
                .map_or(0.0, |&a| propensity[a as usize]);
            out.push((
                ScoredAction {
                    action_id: action.id.clone(),
                    score,
                },
                number(action, "VALUE"),
            ));
        }
        out.sort_by(|(a, va), (b, vb)| {
            let tie = |s: f64| (s * TIE_DECIMALS).round();
            tie(b.score)
                .total_cmp(&tie(a.score))
                .then_with(|| {
                    vb.unwrap_or(f64::NEG_INFINITY)
                        .total_cmp(&va.unwrap_or(f64::NEG_INFINITY))
                })
                .then_with(|| a.action_id.cmp(&b.action_id))
        });
        let ranked: Vec<ScoredAction> = out.into_iter().map(|(s, _)| s).collect();
        Ok(self.explore(ranked, req))
    }

    /// Gives `round(weight * num_results)` slots, spread evenly over the list (as the item
    /// recipes do), to fresh unscored actions: created (`CREATION_TIMESTAMP`) within the
    /// exploration cut-off, or without a creation time. They score 0.0, as AWS documents for
    /// actions recommended through exploration.
    fn explore(&self, ranked: Vec<ScoredAction>, req: &ActionRequest<'_>) -> Vec<ScoredAction> {
        let want = req.num_results;
        let slots =
            ((req.exploration.weight.clamp(0.0, 1.0) * want as f64).round() as usize).min(want);
        let cut_off =
            req.now - (req.exploration.item_age_cut_off_days.max(0.0) * DAY as f64) as i64;
        let created: HashMap<&str, Option<i64>> = req
            .actions
            .iter()
            .map(|a| (a.id.as_str(), a.created))
            .collect();
        let fresh: Vec<usize> = ranked
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                !self.is_scored(&s.action_id)
                    && created
                        .get(s.action_id.as_str())
                        .copied()
                        .flatten()
                        .is_none_or(|t| t >= cut_off)
            })
            .map(|(i, _)| i)
            .collect();
        let mut fresh = fresh.into_iter();
        let mut used = vec![false; ranked.len()];
        let mut next_main = 0;
        let mut order = Vec::with_capacity(want.min(ranked.len()));
        let mut explored = 0;
        while order.len() < want {
            let pos = order.len();
            let explore_now = explored < slots && (pos + 1) * slots >= (explored + 1) * want;
            let explore_pick = if explore_now {
                fresh.by_ref().find(|&i| !used[i])
            } else {
                None
            };
            let pick = match explore_pick {
                Some(i) => {
                    explored += 1;
                    Some(i)
                }
                None => {
                    while next_main < ranked.len() && used[next_main] {
                        next_main += 1;
                    }
                    (next_main < ranked.len()).then_some(next_main)
                }
            };
            let Some(i) = pick else { break };
            used[i] = true;
            order.push(i);
        }
        let mut ranked: Vec<Option<ScoredAction>> = ranked.into_iter().map(Some).collect();
        order.into_iter().filter_map(|i| ranked[i].take()).collect()
    }

    /// Metrics of this model (fitted without the `held_out` users) on those users: their
    /// item and user features as input, the actions they took in the span as the target.
    fn evaluate(
        &self,
        data: &ActionDataset,
        held_out: &dyn Fn(&str) -> bool,
    ) -> BTreeMap<String, f64> {
        let mut targets: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for i in &data.action_interactions {
            if held_out(&i.user_id)
                && ActionEvent::parse(&i.event_type) == Some(ActionEvent::Taken)
                && self.action_index.contains_key(&i.item_id)
            {
                let t = targets.entry(i.user_id.as_str()).or_default();
                if !t.contains(&i.item_id) {
                    t.push(i.item_id.clone());
                }
            }
        }
        let users: HashMap<&str, &Record> = data.users.iter().map(|r| (r.id.as_str(), r)).collect();
        let mut metrics = SolutionMetrics::default();
        for (user, relevant) in targets {
            let items: BTreeSet<u32> = self
                .user_item_features
                .get(user)
                .into_iter()
                .flatten()
                .copied()
                .collect();
            let scores = self.propensities(&items, users.get(user).copied(), &BTreeSet::new());
            let mut ranked: Vec<usize> = (0..self.actions.len()).collect();
            ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            let ranked: Vec<String> = ranked
                .into_iter()
                .take(25)
                .map(|a| self.actions[a].clone())
                .collect();
            metrics.add(&ranked, &relevant);
        }
        metrics.finish(self.actions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    const NOW: i64 = 1_700_000_000;

    fn record(id: &str, fields: &[(&str, FieldValue)]) -> Record {
        Record {
            id: id.into(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            created: None,
        }
    }

    fn action(id: &str, value: f64) -> Record {
        record(id, &[("VALUE", FieldValue::Num(value))])
    }

    /// 60 users per segment (gold, silver); gold users view gold items, take `enroll` and view
    /// `app`; silver users the other way round; everyone declines `card` (never taken, so never
    /// scored).
    fn segments() -> ActionDataset {
        let mut data = ActionDataset {
            actions: vec![
                action("enroll", 1.0),
                action("app", 1.0),
                action("card", 5.0),
            ],
            ..ActionDataset::default()
        };
        for (segment, wanted) in [("gold", "enroll"), ("silver", "app")] {
            for u in 0..60i64 {
                let user = format!("{segment}-{u}");
                data.users.push(record(
                    &user,
                    &[("SEGMENT", FieldValue::List(vec![segment.into()]))],
                ));
                for k in 0..15 {
                    let item = format!("{segment}-item-{}", (u + k) % 20);
                    data.item_interactions.push(Interaction::new(
                        &user,
                        &item,
                        NOW - 10_000 + k,
                        "click",
                    ));
                }
                let t = NOW - 5_000 - u * DAY / 2;
                data.action_interactions
                    .push(Interaction::new(&user, wanted, t, "Taken"));
                data.action_interactions
                    .push(Interaction::new(&user, "card", t, "Not Taken"));
                let other = if wanted == "enroll" { "app" } else { "enroll" };
                data.action_interactions
                    .push(Interaction::new(&user, other, t, "VIEWED"));
            }
        }
        data
    }

    fn ask<'a>(model: &ActionModel, user: &'a str, data: &'a ActionDataset) -> Vec<ScoredAction> {
        model
            .recommend(&ActionRequest {
                user_id: user,
                user: data.users.iter().find(|u| u.id == user),
                actions: &data.actions,
                live_items: &[],
                live_actions: &[],
                num_results: 10,
                filter: None,
                exploration: Exploration::NONE,
                now: NOW,
            })
            .expect("recommends")
    }

    #[test]
    fn event_types_parse_as_documented() {
        assert_eq!(ActionEvent::parse("Not Taken"), Some(ActionEvent::NotTaken));
        assert_eq!(ActionEvent::parse("not_taken"), Some(ActionEvent::NotTaken));
        assert_eq!(ActionEvent::parse("Taken"), Some(ActionEvent::Taken));
        assert_eq!(ActionEvent::parse("VIEWED"), Some(ActionEvent::Viewed));
        assert_eq!(ActionEvent::parse("click"), None);
    }

    #[test]
    fn the_optimization_period_is_checked() {
        let hp = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert_eq!(optimization_period(&BTreeMap::new()), Ok(14));
        assert_eq!(
            optimization_period(&hp("action_optimization_period", "28")),
            Ok(28)
        );
        assert!(optimization_period(&hp("action_optimization_period", "6")).is_err());
        assert!(optimization_period(&hp("action_optimization_period", "x")).is_err());
        assert!(optimization_period(&hp("hidden_dimension", "8")).is_err());
    }

    #[test]
    fn too_few_item_interactions_or_no_actions_are_refused() {
        let mut data = segments();
        data.item_interactions.truncate(999);
        assert_eq!(
            train_actions(&data, 14).err(),
            Some(ActionTrainError::NotEnoughItemInteractions { have: 999 })
        );
        let mut data = segments();
        data.actions.clear();
        assert_eq!(
            train_actions(&data, 14).err(),
            Some(ActionTrainError::NoActions)
        );
    }

    #[test]
    fn a_segment_member_without_action_history_gets_the_segment_action_first() {
        let mut data = segments();
        // A new gold user: items and segment, no action interactions.
        data.users.push(record(
            "newcomer",
            &[("SEGMENT", FieldValue::List(vec!["gold".into()]))],
        ));
        for k in 0..10 {
            data.item_interactions.push(Interaction::new(
                "newcomer",
                &format!("gold-item-{k}"),
                NOW - 100,
                "click",
            ));
        }
        let model = train_actions(&data, 14).expect("trains");
        assert!(model.is_scored("enroll") && model.is_scored("app"));
        assert!(!model.is_scored("card"), "card was never taken");
        let list = ask(&model, "newcomer", &data);
        assert_eq!(list[0].action_id, "enroll", "{list:?}");
        assert!(list.iter().all(|s| (0.0..=1.0).contains(&s.score)));
        assert!(list[0].score > list[1].score);
        // Deterministic.
        assert_eq!(
            ask(
                &train_actions(&data, 14).expect("trains"),
                "newcomer",
                &data
            ),
            list
        );
        // A longer period means a higher propensity for the same user (labels span 30 days).
        let longer = ask(
            &train_actions(&data, 28).expect("trains"),
            "newcomer",
            &data,
        );
        assert!(longer[0].score > list[0].score);
        let metrics = model.metrics();
        assert!(metrics["precision_at_5"] > 0.0, "{metrics:?}");
    }

    #[test]
    fn unscored_actions_score_zero_and_value_breaks_ties() {
        let mut data = segments();
        data.action_interactions.clear();
        data.actions.push(action("survey", 3.0));
        data.actions.push(record("plain", &[]));
        let model = train_actions(&data, 14).expect("trains without action interactions");
        let list = ask(&model, "gold-1", &data);
        let ids: Vec<&str> = list.iter().map(|s| s.action_id.as_str()).collect();
        assert_eq!(ids, ["card", "survey", "app", "enroll", "plain"]);
        assert!(list.iter().all(|s| s.score == 0.0));
    }

    #[test]
    fn expired_and_recently_taken_actions_are_never_returned() {
        let mut data = segments();
        data.actions[0].fields.insert(
            "ACTION_EXPIRATION_TIMESTAMP".into(),
            FieldValue::Num(NOW as f64),
        );
        data.actions[1]
            .fields
            .insert("REPEAT_FREQUENCY".into(), FieldValue::Num(7.0));
        let model = train_actions(&data, 14).expect("trains");
        let ids = |l: Vec<ScoredAction>| l.into_iter().map(|s| s.action_id).collect::<Vec<_>>();
        // enroll expired; silver-3 took app 1.5 days ago (within 7 days).
        assert_eq!(ids(ask(&model, "silver-3", &data)), ["card"]);
        // A gold user never took app: still recommended; after a live TAKEN it is not.
        assert!(ids(ask(&model, "gold-3", &data)).contains(&"app".to_owned()));
        let live = [Interaction::new("gold-3", "app", NOW - 60, "TAKEN")];
        let after = model
            .recommend(&ActionRequest {
                user_id: "gold-3",
                user: None,
                actions: &data.actions,
                live_items: &[],
                live_actions: &live,
                num_results: 10,
                filter: None,
                exploration: Exploration::NONE,
                now: NOW,
            })
            .expect("recommends");
        assert_eq!(ids(after), ["card"]);
        // Eight days later the repeat frequency has passed.
        let later = model
            .recommend(&ActionRequest {
                user_id: "gold-3",
                user: None,
                actions: &data.actions,
                live_items: &[],
                live_actions: &live,
                num_results: 10,
                filter: None,
                exploration: Exploration::NONE,
                now: NOW + 8 * DAY,
            })
            .expect("recommends");
        assert!(ids(later).contains(&"app".to_owned()));
    }

    #[test]
    fn action_filters_apply_and_item_filters_are_refused() {
        let data = segments();
        let model = train_actions(&data, 14).expect("trains");
        let values = BTreeMap::new();
        let filter = parse_filter(
            "EXCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN (\"NOT_TAKEN\")",
        )
        .expect("parses");
        let req = |filter| ActionRequest {
            user_id: "gold-1",
            user: None,
            actions: &data.actions,
            live_items: &[],
            live_actions: &[],
            num_results: 10,
            filter: Some((filter, &values)),
            exploration: Exploration::NONE,
            now: NOW,
        };
        let list = model.recommend(&req(&filter)).expect("recommends");
        assert!(list.iter().all(|s| s.action_id != "card"), "{list:?}");
        assert_eq!(list.len(), 2);
        // Only the newest 300 interactions per event type count: 300 newer NOT_TAKEN events on
        // enroll push gold-1's NOT_TAKEN of card out.
        let declined: Vec<Interaction> = (0..300)
            .map(|k| Interaction::new("gold-1", "enroll", NOW - 100 + k, "NOT_TAKEN"))
            .collect();
        let list = model
            .recommend(&ActionRequest {
                live_actions: &declined,
                ..req(&filter)
            })
            .expect("recommends");
        let ids: Vec<&str> = list.iter().map(|s| s.action_id.as_str()).collect();
        assert_eq!(ids, ["app", "card"]);
        let by_value = parse_filter("INCLUDE ActionID WHERE Actions.VALUE > 2").expect("parses");
        let list = model.recommend(&req(&by_value)).expect("recommends");
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].action_id, "card");
        let items = parse_filter("EXCLUDE ItemID WHERE Items.X IN (\"a\")").expect("parses");
        assert_eq!(
            model.recommend(&req(&items)).err(),
            Some(ActionRecommendError::NotAnActionFilter)
        );
    }

    #[test]
    fn exploration_slots_go_to_fresh_unscored_actions() {
        let mut data = segments();
        data.actions.push(action("fresh", 0.0));
        let mut old = action("old", 0.0);
        old.created = Some(NOW - 60 * DAY);
        data.actions.push(old);
        let model = train_actions(&data, 14).expect("trains");
        let ask = |weight: f64, n: usize| -> Vec<String> {
            model
                .recommend(&ActionRequest {
                    user_id: "gold-1",
                    user: None,
                    actions: &data.actions,
                    live_items: &[],
                    live_actions: &[],
                    num_results: n,
                    filter: None,
                    exploration: Exploration {
                        weight,
                        item_age_cut_off_days: 30.0,
                    },
                    now: NOW,
                })
                .expect("recommends")
                .into_iter()
                .map(|s| s.action_id)
                .collect()
        };
        // Without exploration: scored first, then unscored by VALUE (card 5, then ids).
        assert_eq!(ask(0.0, 10), ["enroll", "app", "card", "fresh", "old"]);
        // Weight 0.5 of 4: slots at positions 2 and 4 (1-based), fresh unscored actions only
        // (card has no creation time, so it is new; old was created 60 days ago).
        assert_eq!(ask(0.5, 4), ["enroll", "card", "app", "fresh"]);
    }

    #[test]
    fn at_most_1000_actions_train_new_and_recent_first() {
        let mut actions: Vec<Record> = (0..1001).map(|i| action(&format!("a{i}"), 0.0)).collect();
        actions.push(action("a0", 0.0));
        let latest = HashMap::from([("a0", 5), ("a1", 9)]);
        let kept = trained_actions(&actions, &latest);
        assert_eq!(kept.len(), 1000);
        assert!(
            !kept.contains(&"a0".to_owned()),
            "oldest interacted action dropped"
        );
        assert!(kept.contains(&"a1".to_owned()) && kept.contains(&"a1000".to_owned()));
    }
}
