//! References between custom resources, in one place: what a reference names (resolved from the
//! controllers' reflector stores) and who references an object (the reverse look-up cleanup
//! needs). The stores are scoped like the watches, so a namespaced install with only a Role never
//! lists beyond its namespace.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use kube::runtime::reflector::{ObjectRef as StoreRef, Store};
use kube::{Resource, ResourceExt};
use personalize_api::conditions::READY;
use personalize_api::{
    Campaign, DatasetGroup, EventTracker, Filter, MetricAttribution, ObjectRef, Recommender,
    Solution,
};
use serde::de::DeserializeOwned;

use crate::reconcile::{Error, HasResource, HasStatus};

/// How long a reverse look-up waits for a store's first listing before giving up for now.
const STORE_READY: Duration = Duration::from_secs(10);

/// The controllers' caches of every kind.
#[derive(Clone)]
pub struct References {
    /// DatasetGroups.
    pub dataset_groups: Store<DatasetGroup>,
    /// Solutions.
    pub solutions: Store<Solution>,
    /// Campaigns.
    pub campaigns: Store<Campaign>,
    /// EventTrackers.
    pub event_trackers: Store<EventTracker>,
    /// Filters.
    pub filters: Store<Filter>,
    /// Recommenders.
    pub recommenders: Store<Recommender>,
    /// MetricAttributions.
    pub metric_attributions: Store<MetricAttribution>,
    /// Reads an object the cache shows as missing or not Ready yet, which it may just have
    /// become (the watch that woke the referrer can run ahead of the cache). None: cache only.
    pub client: Option<kube::Client>,
}

/// Objects whose status says whether they are Ready.
pub trait HasReady {
    /// The Ready condition is True.
    fn is_ready(&self) -> bool;
}

impl<K: HasStatus<Status: HasResource>> HasReady for K {
    fn is_ready(&self) -> bool {
        self.status().is_some_and(|s| s.resource().is_true(READY))
    }
}

impl References {
    /// The object `reference` (made from `own_namespace`) names, if it exists.
    pub async fn resolve<K>(
        &self,
        store: &Store<K>,
        reference: &ObjectRef,
        own_namespace: &str,
    ) -> Result<Option<Arc<K>>, Error>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + HasReady
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        let ns = reference.namespace_or(own_namespace);
        let cached = store.get(&StoreRef::new(&reference.name).within(ns));
        if cached.as_ref().is_some_and(|o| o.is_ready()) {
            return Ok(cached);
        }
        let Some(client) = &self.client else {
            return Ok(cached);
        };
        let api: Api<K> = Api::namespaced(client.clone(), ns);
        Ok(api.get_opt(&reference.name).await?.map(Arc::new))
    }

    /// "Kind ns/name" of every object in `store` whose reference (read by `reference`) points
    /// at `target`.
    pub async fn referrers<K, T>(
        store: &Store<K>,
        target: &T,
        reference: impl Fn(&K) -> Option<&ObjectRef>,
    ) -> Result<Vec<String>, Error>
    where
        K: Resource<DynamicType = ()> + Clone + 'static,
        T: Resource,
    {
        if tokio::time::timeout(STORE_READY, store.wait_until_ready())
            .await
            .map_or(true, |ready| ready.is_err())
        {
            return Err(Error::Waiting(format!(
                "the cache of {} is not loaded yet",
                K::plural(&())
            )));
        }
        Ok(referring(&store.state(), target, reference))
    }
}

/// Whether `reference`, made from `obj`, points at `target` (same namespace by default).
pub fn refers<K: Resource, T: Resource>(
    obj: &K,
    reference: Option<&ObjectRef>,
    target: &T,
) -> bool {
    let own = obj.namespace().unwrap_or_default();
    reference.is_some_and(|r| {
        r.name == target.name_any()
            && r.namespace_or(&own) == target.namespace().unwrap_or_default()
    })
}

/// "Kind ns/name" of the objects among `objects` that reference `target`. Pure.
pub fn referring<K, T>(
    objects: &[Arc<K>],
    target: &T,
    reference: impl Fn(&K) -> Option<&ObjectRef>,
) -> Vec<String>
where
    K: Resource<DynamicType = ()>,
    T: Resource,
{
    let mut names: Vec<String> = objects
        .iter()
        .filter(|obj| refers(obj.as_ref(), reference(obj), target))
        .map(|obj| {
            format!(
                "{} {}/{}",
                K::kind(&()),
                obj.namespace().unwrap_or_default(),
                obj.name_any()
            )
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::testing::movielens;

    #[test]
    fn finds_referrers_in_the_same_and_in_other_namespaces() {
        let (group, solution, ..) = movielens();
        let named = |ns: &str, name: &str, group: &str, group_ns: Option<&str>| {
            let mut s = solution.clone();
            s.metadata.namespace = Some(ns.to_owned());
            s.metadata.name = Some(name.to_owned());
            s.spec.dataset_group_ref = Some(ObjectRef {
                name: group.to_owned(),
                namespace: group_ns.map(str::to_owned),
            });
            Arc::new(s)
        };
        let objects = [
            named("team", "a", "movielens", None),
            named("other", "b", "movielens", Some("team")),
            named("other", "c", "movielens", None),
            named("team", "d", "books", None),
        ];
        let found = referring(&objects, &group, |s: &Solution| {
            s.spec.dataset_group_ref.as_ref()
        });
        assert_eq!(found, ["Solution other/b", "Solution team/a"]);
    }
}
