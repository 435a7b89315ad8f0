//! Wires the four reconcilers into kube-runtime controllers: what each watches, and the watches
//! that wake dependents at once when what they reference changes (a DatasetGroup becoming Ready
//! wakes its Solutions and EventTracker; a Solution's new version wakes its Campaigns).

use std::sync::Arc;

use futures::StreamExt;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use personalize_api::{Campaign, DatasetGroup, EventTracker, ObjectRef as SpecRef, Solution};
use serde::de::DeserializeOwned;

use crate::reconcile::{self, Context, error_policy};

fn api<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()> + DeserializeOwned,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Objects in `store` whose reference (read by `reference`) points at `target`.
fn referrers<K, T>(
    store: &Store<K>,
    target: &T,
    reference: impl Fn(&K) -> Option<&SpecRef>,
) -> Vec<ObjectRef<K>>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
    T: Resource,
{
    let (name, ns) = (target.name_any(), target.namespace().unwrap_or_default());
    store
        .state()
        .into_iter()
        .filter(|obj| {
            let own = obj.namespace().unwrap_or_default();
            reference(obj).is_some_and(|r| r.name == name && r.namespace_or(&own) == ns)
        })
        .map(|obj| ObjectRef::from_obj(obj.as_ref()))
        .collect()
}

async fn log<K: Resource, E: std::fmt::Display>(
    result: Result<(ObjectRef<K>, kube::runtime::controller::Action), E>,
) where
    K::DynamicType: std::fmt::Debug,
{
    match result {
        Ok((obj, _)) => tracing::debug!(%obj, "reconciled"),
        Err(err) => tracing::debug!(%err, "reconcile error"),
    }
}

/// Runs the four controllers until a shutdown signal (SIGTERM/ctrl-c).
pub async fn run(ctx: Arc<Context>, namespace: Option<&str>) {
    let client = ctx.kube.clone();
    let config = watcher::Config::default().any_semantic();

    let dataset_groups = Controller::new(api::<DatasetGroup>(&client, namespace), config.clone())
        .shutdown_on_signal()
        .run(
            reconcile::dataset_group::reconcile,
            error_policy,
            ctx.clone(),
        )
        .for_each(log);

    let solutions = Controller::new(api::<Solution>(&client, namespace), config.clone());
    let store = solutions.store();
    let solutions = solutions
        .watches(
            api::<DatasetGroup>(&client, namespace),
            config.clone(),
            move |dg| {
                referrers(&store, &dg, |s: &Solution| {
                    s.spec.dataset_group_ref.as_ref()
                })
            },
        )
        .shutdown_on_signal()
        .run(reconcile::solution::reconcile, error_policy, ctx.clone())
        .for_each(log);

    let campaigns = Controller::new(api::<Campaign>(&client, namespace), config.clone());
    let store = campaigns.store();
    let campaigns = campaigns
        .watches(
            api::<Solution>(&client, namespace),
            config.clone(),
            move |sol| referrers(&store, &sol, |c: &Campaign| c.spec.solution_ref.as_ref()),
        )
        .shutdown_on_signal()
        .run(reconcile::campaign::reconcile, error_policy, ctx.clone())
        .for_each(log);

    let trackers = Controller::new(api::<EventTracker>(&client, namespace), config.clone());
    let store = trackers.store();
    let trackers = trackers
        .watches(api::<DatasetGroup>(&client, namespace), config, move |dg| {
            referrers(&store, &dg, |t: &EventTracker| {
                t.spec.dataset_group_ref.as_ref()
            })
        })
        .shutdown_on_signal()
        .run(
            reconcile::event_tracker::reconcile,
            error_policy,
            ctx.clone(),
        )
        .for_each(log);

    tokio::join!(dataset_groups, solutions, campaigns, trackers);
}
