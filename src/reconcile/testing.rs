//! Test support for the kinds' scenario tests: the fake Personalize, caches filled by hand, and
//! the MovieLens example objects. Runs with no apiserver and no network, in milliseconds.

use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use personalize_api::{
    Campaign, DatasetGroup, EventTracker, Filter, MetricAttribution, Recommender, Solution,
};
use serde::de::DeserializeOwned;

use super::{Env, Error, HasResource, HasStatus, Managed, resolve_and_sync};
use crate::outcome::Outcome;
use crate::personalize::fake::Fake;
use crate::references::References;
use crate::resource::{Change, Deletion};

/// The namespace of every test object.
pub const NS: &str = "team";

/// A fake Personalize and the caches a reconcile reads references from.
pub struct World {
    /// The fake service.
    pub fake: Fake,
    references: References,
    groups: reflector::store::Writer<DatasetGroup>,
    solutions: reflector::store::Writer<Solution>,
    campaigns: reflector::store::Writer<Campaign>,
    trackers: reflector::store::Writer<EventTracker>,
    filters: reflector::store::Writer<Filter>,
    recommenders: reflector::store::Writer<Recommender>,
    attributions: reflector::store::Writer<MetricAttribution>,
    /// The time a reconcile sees (default: the real time).
    pub now: Option<Timestamp>,
    /// What the gateways' /metrics say (rollout analyses).
    pub scrape: crate::scrape::Fixed,
}

fn ready_store<K>() -> (Store<K>, reflector::store::Writer<K>)
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    let (store, mut writer) = reflector::store();
    writer.apply_watcher_event(&watcher::Event::Init);
    writer.apply_watcher_event(&watcher::Event::InitDone);
    (store, writer)
}

impl World {
    /// An empty world whose resources are ACTIVE at once.
    pub fn new() -> Self {
        Self::with(Fake::new())
    }

    /// An empty world over a given fake.
    pub fn with(fake: Fake) -> Self {
        let (dataset_groups, groups) = ready_store();
        let (solutions_store, solutions) = ready_store();
        let (campaigns_store, campaigns) = ready_store();
        let (event_trackers, trackers) = ready_store();
        let (filters_store, filters) = ready_store();
        let (recommenders_store, recommenders) = ready_store();
        let (attributions_store, attributions) = ready_store();
        World {
            fake,
            references: References {
                dataset_groups,
                solutions: solutions_store,
                campaigns: campaigns_store,
                event_trackers,
                filters: filters_store,
                recommenders: recommenders_store,
                metric_attributions: attributions_store,
                client: None,
            },
            groups,
            solutions,
            campaigns,
            trackers,
            filters,
            recommenders,
            attributions,
            now: None,
            scrape: crate::scrape::Fixed::default(),
        }
    }

    /// What a kind's `sync` and `cleanup` get.
    pub fn env(&self) -> Env<'_> {
        let mut env = Env::new(&self.fake, &self.references, &self.scrape);
        env.now = self.now.unwrap_or(env.now);
        env
    }

    /// Puts an object in its kind's cache.
    pub fn put<K: Cached>(&mut self, obj: &K) {
        let event = watcher::Event::Apply(obj.clone());
        K::writer(self).apply_watcher_event(&event);
    }

    /// One apply of `obj` (status kept in it, as the status write would): the outcome (AWS
    /// errors as the reconcile loop maps them) and the changes made.
    pub async fn sync<K: Managed>(&self, obj: &mut K) -> (Outcome, Vec<Change>) {
        let mut status = obj.status().cloned().unwrap_or_default();
        let env = self.env().observing(super::observe_only(obj));
        let outcome = resolve_and_sync(obj, &env, &mut status)
            .await
            .expect("only AWS errors");
        if matches!(outcome, Outcome::Ready { .. }) {
            status.resource_mut().conditions = vec![ready_condition()];
        }
        *obj.status_mut() = Some(status);
        (outcome, env.changes.take())
    }

    /// One sync that must end with `reason` and, when `action` is given, begin its changes with
    /// it; the changes.
    pub async fn expect<K: Managed>(
        &self,
        obj: &mut K,
        reason: &str,
        action: Option<&str>,
    ) -> Vec<Change> {
        let (outcome, changes) = self.sync(obj).await;
        assert_eq!(outcome.reason(), reason, "{outcome:?}");
        if let Some(action) = action {
            assert_eq!(changes.first().map(|c| c.action.as_str()), Some(action));
        }
        changes
    }

    /// Removes the object's resource behind the operator's back: the next sync must create it
    /// again (`create` is the operation) and end Ready.
    pub async fn removed_and_recreated<K: Managed>(&self, obj: &mut K, create: &str) {
        let before = self.fake.calls(create);
        self.fake.remove(&arn_of(obj));
        self.expect(obj, "Active", Some(create)).await;
        assert_eq!(self.fake.calls(create), before + 1, "created once more");
    }

    /// A kind in a dataset group: waits while the group does not exist, then creates its
    /// resource (`create` is the operation) once the group and a trained solution are Ready.
    pub async fn created_once_the_group_is_ready<K: Managed>(&mut self, obj: &mut K, create: &str) {
        self.expect(obj, "DatasetGroupNotFound", None).await;
        ready_group_and_solution(self).await;
        self.expect(obj, "Active", Some(create)).await;
    }

    /// `times` syncs, whatever they decide.
    pub async fn sync_times<K: Managed>(&self, obj: &mut K, times: usize) {
        for _ in 0..times {
            self.sync(obj).await;
        }
    }

    /// Syncs until Ready (at most `tries` times); the outcomes seen.
    pub async fn sync_until_ready<K: Managed>(&self, obj: &mut K) -> Vec<Outcome> {
        let mut seen = Vec::new();
        for _ in 0..10 {
            let (outcome, _) = self.sync(obj).await;
            let done = matches!(outcome, Outcome::Ready { .. });
            seen.push(outcome);
            if done {
                return seen;
            }
        }
        panic!("not Ready after 10 syncs: {seen:?}");
    }

    /// One cleanup step.
    pub async fn cleanup<K: Managed>(&self, obj: &K) -> Result<(Deletion, Vec<Change>), Error> {
        let env = self.env();
        let step = obj.cleanup(&env).await?;
        Ok((step, env.changes.take()))
    }

    /// Cleanup steps until gone (at most 10).
    pub async fn cleanup_until_gone<K: Managed>(&self, obj: &K) -> Vec<Deletion> {
        let mut seen = Vec::new();
        for _ in 0..10 {
            let (step, _) = self.cleanup(obj).await.expect("cleanup step");
            let gone = step == Deletion::Gone;
            seen.push(step);
            if gone {
                return seen;
            }
        }
        panic!("not gone after 10 steps: {seen:?}");
    }
}

fn ready_condition() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    let ready = Outcome::Ready {
        message: String::new(),
    };
    let mut conditions = crate::outcome::conditions(&[], &ready, false, None, Timestamp::now());
    conditions.remove(0)
}

/// Kinds with a cache in the [`World`].
pub trait Cached: Resource<DynamicType = ()> + Clone + 'static {
    /// The writer of its cache.
    fn writer(world: &mut World) -> &mut reflector::store::Writer<Self>;
}

macro_rules! cached {
    ($($k:ty => $field:ident),*) => {$(
        impl Cached for $k {
            fn writer(world: &mut World) -> &mut reflector::store::Writer<Self> { &mut world.$field }
        }
    )*};
}
cached!(
    DatasetGroup => groups,
    Solution => solutions,
    Campaign => campaigns,
    EventTracker => trackers,
    Filter => filters,
    Recommender => recommenders,
    MetricAttribution => attributions
);

/// An object of the MovieLens example (`examples/movielens/<file>`), in [`NS`] with a uid.
pub fn example<K: DeserializeOwned + Resource>(file: &str) -> K {
    example_in("movielens", file)
}

/// The last object of an example file (`examples/<dir>/<file>`), in [`NS`] with a uid.
pub fn example_in<K: DeserializeOwned + Resource>(dir: &str, file: &str) -> K {
    let path = format!("{}/examples/{dir}/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("example file");
    let text = text.rsplit("\n---\n").next().unwrap_or_default();
    let mut obj: K = serde_yaml::from_str(text).expect("example parses");
    obj.meta_mut().namespace = Some(NS.to_owned());
    obj.meta_mut().uid = Some(format!("uid-{file}"));
    obj
}

/// The example's DatasetGroup, Solution, Campaign and EventTracker.
pub fn movielens() -> (DatasetGroup, Solution, Campaign, EventTracker) {
    (
        example("00-dataset-group.yaml"),
        example("10-solution.yaml"),
        example("20-campaign.yaml"),
        example("20-event-tracker.yaml"),
    )
}

/// A Ready DatasetGroup, Solution with a version, in the caches: what Campaigns and
/// EventTrackers need.
pub async fn ready_group_and_solution(world: &mut World) -> (DatasetGroup, Solution) {
    let (mut group, mut solution, _, _) = movielens();
    world.sync_until_ready(&mut group).await;
    world.put(&group);
    world.sync_until_ready(&mut solution).await;
    world.put(&solution);
    (group, solution)
}

/// The status's ARN.
pub fn arn_of<K: HasStatus>(obj: &K) -> String
where
    K::Status: HasResource,
{
    obj.status()
        .and_then(|s| s.resource().arn.clone())
        .expect("an ARN in status")
}
