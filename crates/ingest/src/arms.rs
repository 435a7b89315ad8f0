//! The gateway's side of a Campaign rollout (issue #15): which arm serves a user ([`route`]),
//! what each arm served to whom ([`ServedLists`], for click attribution), and the per-arm counts
//! the operator judges the candidate by ([`Counts`], rendered on the gateway's `/metrics`).
//!
//! Everything here is in memory and synchronous; the decisions ([`route`], [`ServedLists`],
//! [`name_the_list`]) take the clock as an argument and are pure. Only Campaigns named by their
//! custom resource are split and counted: their label values are the namespace/name of an
//! existing object and the rollout id the operator wrote, never an ARN a caller sent.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use personalize_api::campaign::{RolloutStatus, on_candidate};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde_json::{Map, Value};

use crate::record;

/// Users whose last served list is remembered, at most.
pub const MAX_USERS: usize = 100_000;
/// How long a served list can earn its click.
pub const CLICK_WINDOW: Duration = Duration::from_secs(3600);

/// The campaign that answers: the stable one, or the rollout's candidate.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Arm {
    /// The campaign's own (`status.arn`).
    Stable,
    /// The rollout's candidate campaign (`status.rollout.candidateCampaignArn`).
    Candidate,
}

impl Arm {
    /// The `arm` label value and `x-personalize-arm` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Stable => "stable",
            Arm::Candidate => "candidate",
        }
    }
}

impl EncodeLabelValue for Arm {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// Which campaign answers one request, and the labels its counts go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The campaign to call.
    pub arn: String,
    /// Which of the two it is.
    pub arm: Arm,
    /// [`RolloutStatus::id`] when the request took part in a serving rollout's split, else
    /// empty.
    pub rollout: String,
}

/// The split: while a candidate serves (`status.rollout`'s [`RolloutStatus::serving_candidate`]),
/// a request with a user id goes to the candidate when [`on_candidate`] says so, else to
/// `stable_arn`. Requests without a user id (related items by `itemId`) take no part in the
/// split: stable, with an empty rollout label, so they do not weigh on the stable arm's
/// click-through (their clicks cannot be attributed).
pub fn route(stable_arn: &str, rollout: Option<&RolloutStatus>, user_id: Option<&str>) -> Route {
    let split = rollout.and_then(|r| Some((r.id(), r.serving_candidate()?)));
    match (split, user_id) {
        (Some((id, (candidate, weight))), Some(user)) => {
            let arm = if on_candidate(user, weight) {
                Arm::Candidate
            } else {
                Arm::Stable
            };
            let arn = match arm {
                Arm::Candidate => candidate,
                Arm::Stable => stable_arn,
            };
            Route {
                arn: arn.to_owned(),
                arm,
                rollout: id.to_owned(),
            }
        }
        _ => Route {
            arn: stable_arn.to_owned(),
            arm: Arm::Stable,
            rollout: String::new(),
        },
    }
}

/// The labels of the recommendation and click counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ArmLabels {
    /// `<namespace>/<name>` of the Campaign object.
    pub campaign: String,
    /// See [`Route::rollout`].
    pub rollout: String,
    /// The arm that served.
    pub arm: Arm,
}

/// The labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    campaign: String,
    arm: Arm,
}

/// One list served to a user.
#[derive(Clone, Debug, PartialEq)]
pub struct Served {
    labels: ArmLabels,
    /// GetRecommendations' `recommendationId`.
    recommendation_id: Option<String>,
    /// Hashes of the item ids ([`item_key`]): 8 bytes an item, whatever the ids' length.
    items: Vec<u64>,
    at: Instant,
}

impl Served {
    /// The list `items` served at `at`.
    pub fn new<'a>(
        labels: ArmLabels,
        recommendation_id: Option<String>,
        items: impl IntoIterator<Item = &'a str>,
        at: Instant,
    ) -> Self {
        Served {
            labels,
            recommendation_id,
            items: items.into_iter().map(item_key).collect(),
            at,
        }
    }
}

/// What an item id is remembered by (64 bits: a false match is negligible).
fn item_key(item_id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    item_id.hash(&mut h);
    h.finish()
}

/// A click on a remembered list, found before the event is put on Kinesis and counted after
/// ([`ServedLists::take`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    user_id: String,
    seq: u64,
    /// The clicked item.
    pub item_id: String,
    /// The counts the click goes to: those of the list's campaign, rollout and arm.
    pub labels: ArmLabels,
    /// The list's `recommendationId`.
    pub recommendation_id: Option<String>,
}

/// The last list served to each user, for [`CLICK_WINDOW`], at most [`MAX_USERS`] users
/// (by default). Entries are numbered in the order they were stored; when a new one would
/// exceed the capacity, the one stored longest ago is evicted (a `BTreeMap` from number to user
/// keeps that order), and entries older than the window are evicted from the same end as new
/// ones are stored. A user's new list replaces the last one (and takes a new number).
/// Items are kept as 64-bit hashes: with 25 items a list, about 0.5 KB a user, 50 MB when full
/// (lists of 500 items, the most GetRecommendations returns, would take about 8 times that).
#[derive(Debug)]
pub struct ServedLists {
    by_user: HashMap<String, (u64, Served)>,
    order: BTreeMap<u64, String>,
    next: u64,
    capacity: usize,
    window: Duration,
}

impl Default for ServedLists {
    fn default() -> Self {
        ServedLists::new(MAX_USERS, CLICK_WINDOW)
    }
}

impl ServedLists {
    /// At most `capacity` users, each list counting for `window`.
    pub fn new(capacity: usize, window: Duration) -> Self {
        ServedLists {
            by_user: HashMap::new(),
            order: BTreeMap::new(),
            next: 0,
            capacity: capacity.max(1),
            window,
        }
    }

    /// Remembers `served` as `user_id`'s last list; `served.at` is now.
    pub fn remember(&mut self, user_id: &str, served: Served) {
        let now = served.at;
        if let Some((seq, _)) = self.by_user.remove(user_id) {
            self.order.remove(&seq);
        }
        while let Some(entry) = self.order.first_entry() {
            let user = entry.get();
            let expired = self
                .by_user
                .get(user)
                .is_none_or(|(_, s)| now.saturating_duration_since(s.at) > self.window);
            if !expired && self.by_user.len() < self.capacity {
                break;
            }
            let user = entry.remove();
            self.by_user.remove(&user);
        }
        let seq = self.next;
        self.next += 1;
        self.order.insert(seq, user_id.to_owned());
        self.by_user.insert(user_id.to_owned(), (seq, served));
    }

    /// The click of `user_id` on the first of `item_ids` that is in the list last served to
    /// them, if that list is still within the window at `now`. Changes nothing: see
    /// [`ServedLists::take`].
    pub fn find<'a>(
        &self,
        user_id: &str,
        item_ids: impl IntoIterator<Item = &'a str>,
        now: Instant,
    ) -> Option<Claim> {
        let (seq, served) = self.by_user.get(user_id)?;
        if now.saturating_duration_since(served.at) > self.window {
            return None;
        }
        let item_id = item_ids
            .into_iter()
            .find(|item| served.items.contains(&item_key(item)))?;
        Some(Claim {
            user_id: user_id.to_owned(),
            seq: *seq,
            item_id: item_id.to_owned(),
            labels: served.labels.clone(),
            recommendation_id: served.recommendation_id.clone(),
        })
    }

    /// Forgets the list `claim` was found on, once the click is sent: true when it was still
    /// there, i.e. this is the list's first click (a concurrent or later click on the same
    /// list, or a click on a list since replaced or evicted, is false).
    pub fn take(&mut self, claim: &Claim) -> bool {
        match self.by_user.get(&claim.user_id) {
            Some((seq, _)) if *seq == claim.seq => {
                self.by_user.remove(&claim.user_id);
                self.order.remove(&claim.seq);
                true
            }
            _ => false,
        }
    }
}

/// Adds `recommendation_id` to the events of `data` (a record as [`record::decode`] takes it)
/// that click `item_id` and name no `recommendationId`, so that Personalize's metric
/// attribution credits the campaign that served the list. An id over PutEvents' limit is not
/// added. True when `data` changed.
pub fn name_the_list(
    data: &mut Map<String, Value>,
    item_id: &str,
    recommendation_id: &str,
) -> bool {
    if recommendation_id.len() > record::MAX_RECOMMENDATION_ID_LEN {
        return false;
    }
    let name = |event: &mut Map<String, Value>| {
        let clicks = event.get("itemId").and_then(record::id_value).as_deref() == Some(item_id);
        let named = !matches!(event.get("recommendationId"), None | Some(Value::Null));
        if clicks && !named {
            event.insert("recommendationId".into(), recommendation_id.into());
        }
        clicks && !named
    };
    match data.get_mut("eventList") {
        Some(Value::Array(events)) => events
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .fold(false, |changed, event| name(event) | changed),
        _ => name(data),
    }
}

/// The per-arm counts, as Prometheus metrics under `personalize_gateway_`:
/// - `recommendations_total{campaign,rollout,arm}`: successful GetRecommendations answers;
/// - `clicks_total{campaign,rollout,arm}`: clicks attributed to an answer (at most one each);
/// - `recommendation_seconds{campaign,arm}`: how long the GetRecommendations call took (the AWS
///   call alone, answered or failed; not the Kubernetes read before it).
#[derive(Debug)]
pub struct Counts {
    recommendations: Family<ArmLabels, Counter>,
    clicks: Family<ArmLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    registry: Registry,
}

fn latency_histogram() -> Histogram {
    // 1 ms to 8 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

impl Default for Counts {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("personalize_gateway");
        let recommendations = Family::<ArmLabels, Counter>::default();
        let clicks = Family::<ArmLabels, Counter>::default();
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        // Counters are registered without `_total`: the encoder appends it.
        registry.register(
            "recommendations",
            "GetRecommendations answers of Campaigns named by their custom resource, by rollout and arm",
            recommendations.clone(),
        );
        registry.register(
            "clicks",
            "clicks on a list the gateway served (at most one per list), by rollout and arm",
            clicks.clone(),
        );
        registry.register(
            "recommendation_seconds",
            "GetRecommendations call latency of Campaigns named by their custom resource, by arm",
            latency.clone(),
        );
        Counts {
            recommendations,
            clicks,
            latency,
            registry,
        }
    }
}

impl Counts {
    /// One list served.
    pub fn served(&self, labels: &ArmLabels) {
        self.recommendations.get_or_create(labels).inc();
    }

    /// One click on a served list.
    pub fn clicked(&self, labels: &ArmLabels) {
        self.clicks.get_or_create(labels).inc();
    }

    /// One GetRecommendations call of `campaign` on `arm` that took `took`.
    pub fn observe(&self, campaign: &str, arm: Arm, took: Duration) {
        let labels = LatencyLabels {
            campaign: campaign.to_owned(),
            arm,
        };
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The Prometheus text exposition (version 0.0.4, [`crate::metrics::CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// What the gateway's handlers share about arms: the served lists and the counts.
#[derive(Debug, Default)]
pub struct Arms {
    served: Mutex<ServedLists>,
    /// The per-arm counts.
    pub counts: Counts,
}

impl Arms {
    /// Locks the served lists (a poisoned lock is still usable: every change is applied whole).
    pub fn served(&self) -> std::sync::MutexGuard<'_, ServedLists> {
        self.served.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use personalize_api::campaign::RolloutPhase;
    use serde_json::json;

    fn labels(arm: Arm) -> ArmLabels {
        ArmLabels {
            campaign: "team/movies".into(),
            rollout: "v2".into(),
            arm,
        }
    }

    fn served(items: &[&str], at: Instant) -> Served {
        Served::new(
            labels(Arm::Candidate),
            Some("RID-1".into()),
            items.iter().copied(),
            at,
        )
    }

    fn rollout(phase: RolloutPhase, weight: i32) -> RolloutStatus {
        serde_json::from_value(json!({
            "phase": phase, "weight": weight,
            "stableVersionArn": "arn:aws:personalize:us-east-1:1:solution/s/v1",
            "candidateVersionArn": "arn:aws:personalize:us-east-1:1:solution/s/v2",
            "candidateCampaignArn": "arn:candidate",
        }))
        .expect("a rollout status")
    }

    #[test]
    fn the_split_follows_the_sticky_hash_while_a_candidate_serves() {
        let serving = rollout(RolloutPhase::Progressing, 50);
        let mut candidates = 0;
        for n in 0..1000 {
            let user = format!("user-{n}");
            let r = route("arn:stable", Some(&serving), Some(&user));
            assert_eq!(r.rollout, "v2");
            assert_eq!(r.arm == Arm::Candidate, on_candidate(&user, 50));
            let expected = if r.arm == Arm::Candidate {
                "arn:candidate"
            } else {
                "arn:stable"
            };
            assert_eq!(r.arn, expected);
            candidates += usize::from(r.arm == Arm::Candidate);
        }
        assert!((400..600).contains(&candidates), "{candidates}");
        // No user id, no rollout, or a rollout no longer serving: stable, outside any rollout.
        let stable = Route {
            arn: "arn:stable".into(),
            arm: Arm::Stable,
            rollout: String::new(),
        };
        let all = rollout(RolloutPhase::Progressing, 100);
        assert_eq!(route("arn:stable", Some(&all), None), stable);
        assert_eq!(route("arn:stable", None, Some("u")), stable);
        let ended = rollout(RolloutPhase::Aborted, 50);
        assert_eq!(route("arn:stable", Some(&ended), Some("u")), stable);
        assert_eq!(
            route("arn:stable", Some(&all), Some("u")).arm,
            Arm::Candidate
        );
    }

    #[test]
    fn the_oldest_user_is_evicted_beyond_the_capacity() {
        let t0 = Instant::now();
        let mut lists = ServedLists::new(2, CLICK_WINDOW);
        lists.remember("a", served(&["i1"], t0));
        lists.remember("b", served(&["i1"], t0));
        // a is served again: b is now the oldest.
        lists.remember("a", served(&["i1"], t0));
        lists.remember("c", served(&["i1"], t0));
        assert_eq!(lists.by_user.len(), 2);
        assert!(lists.find("b", ["i1"], t0).is_none());
        assert!(lists.find("a", ["i1"], t0).is_some());
        assert!(lists.find("c", ["i1"], t0).is_some());
        assert_eq!(
            lists.order.len(),
            2,
            "the order holds only remembered users"
        );
    }

    #[test]
    fn an_old_list_does_not_count_and_is_evicted() {
        let t0 = Instant::now();
        let mut lists = ServedLists::new(10, CLICK_WINDOW);
        lists.remember("a", served(&["i1"], t0));
        let late = t0 + CLICK_WINDOW + Duration::from_secs(1);
        assert!(lists.find("a", ["i1"], t0 + CLICK_WINDOW).is_some());
        assert!(lists.find("a", ["i1"], late).is_none());
        lists.remember("b", served(&["i1"], late));
        assert_eq!(lists.by_user.len(), 1, "a expired");
    }

    #[test]
    fn only_the_first_click_on_a_served_item_counts() {
        let t0 = Instant::now();
        let mut lists = ServedLists::default();
        lists.remember("a", served(&["i1", "i2"], t0));
        assert!(lists.find("a", ["i9"], t0).is_none(), "not served");
        assert!(lists.find("b", ["i1"], t0).is_none(), "not served to b");
        let claim = lists.find("a", ["i9", "i2"], t0).expect("i2 was served");
        assert_eq!(claim.item_id, "i2");
        assert_eq!(claim.labels, labels(Arm::Candidate));
        assert_eq!(claim.recommendation_id.as_deref(), Some("RID-1"));
        // Two clicks found at once (concurrent POSTs): one counts.
        let again = lists.find("a", ["i1"], t0).expect("still there");
        assert!(lists.take(&claim));
        assert!(!lists.take(&again));
        assert!(lists.find("a", ["i1"], t0).is_none());
        assert!(lists.by_user.is_empty());
        // A click found on a list replaced before it is counted does not count.
        lists.remember("a", served(&["i1"], t0));
        let stale = lists.find("a", ["i1"], t0).expect("served");
        lists.remember("a", served(&["i1"], t0));
        assert!(!lists.take(&stale));
        assert_eq!(lists.by_user.len(), 1);
    }

    #[test]
    fn the_recommendation_id_is_added_only_where_absent() {
        let mut flat = json!({"userId": "u", "itemId": "i1", "eventType": "click"});
        let flat = flat.as_object_mut().expect("object");
        assert!(name_the_list(flat, "i1", "RID-1"));
        assert_eq!(flat["recommendationId"], "RID-1");
        assert!(!name_the_list(flat, "i1", "RID-2"), "already named");
        assert_eq!(flat["recommendationId"], "RID-1");
        assert!(!name_the_list(flat, "i2", "RID-2"), "another item");

        let mut numeric = json!({"userId": "u", "itemId": 7, "recommendationId": null});
        let numeric = numeric.as_object_mut().expect("object");
        assert!(name_the_list(numeric, "7", "RID-1"));
        assert_eq!(numeric["recommendationId"], "RID-1");

        let too_long = "R".repeat(record::MAX_RECOMMENDATION_ID_LEN + 1);
        let mut plain = json!({"userId": "u", "itemId": "i1"});
        assert!(!name_the_list(
            plain.as_object_mut().expect("o"),
            "i1",
            &too_long
        ));
        assert!(plain.get("recommendationId").is_none());

        let mut native = json!({"userId": "u", "eventList": [
            {"itemId": "i1"}, {"itemId": "i2"}, {"itemId": "i1", "recommendationId": "RID-0"}]});
        assert!(name_the_list(
            native.as_object_mut().expect("o"),
            "i1",
            "RID-1"
        ));
        assert_eq!(
            native["eventList"],
            json!([{"itemId": "i1", "recommendationId": "RID-1"}, {"itemId": "i2"},
                   {"itemId": "i1", "recommendationId": "RID-0"}])
        );
        assert!(native.get("recommendationId").is_none());
    }

    #[test]
    fn renders_the_names_the_operator_parses() {
        let counts = Counts::default();
        counts.served(&labels(Arm::Candidate));
        counts.served(&labels(Arm::Candidate));
        counts.served(&labels(Arm::Stable));
        counts.clicked(&labels(Arm::Candidate));
        counts.observe("team/movies", Arm::Stable, Duration::from_millis(3));
        let text = counts.render();
        let sample = |name: &str, arm: &str, n: u64| {
            format!("{name}{{campaign=\"team/movies\",rollout=\"v2\",arm=\"{arm}\"}} {n}\n")
        };
        for expected in [
            sample("personalize_gateway_recommendations_total", "candidate", 2),
            sample("personalize_gateway_recommendations_total", "stable", 1),
            sample("personalize_gateway_clicks_total", "candidate", 1),
            "personalize_gateway_recommendation_seconds_count{campaign=\"team/movies\",arm=\"stable\"} 1\n".into(),
            "personalize_gateway_recommendation_seconds_bucket{campaign=\"team/movies\",arm=\"stable\",le=\"0.004\"} 1\n".into(),
            "personalize_gateway_recommendation_seconds_bucket{campaign=\"team/movies\",arm=\"stable\",le=\"0.002\"} 0\n".into(),
        ] {
            assert!(text.contains(&expected), "{expected} in\n{text}");
        }
        assert!(!text.contains("_total_total"), "{text}");
        assert!(!text.contains("arm=\"Stable\""), "{text}");
    }
}
