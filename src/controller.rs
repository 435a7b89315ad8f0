//! Wires the kinds into kube-runtime controllers: what each watches, the watches that wake
//! dependents at once when what they reference changes (a DatasetGroup becoming Ready wakes its
//! Solutions, EventTracker, Filters, Recommenders and MetricAttribution; a Solution's new version
//! wakes its Campaigns and batch jobs), and the caches ([`References`]) the reconcilers resolve references from. Every watch is scoped to the
//! watched namespace, if any.

use std::sync::Arc;

use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Resource};
use personalize_api::{
    BatchInferenceJob, BatchSegmentJob, Campaign, DataDeletionJob, DatasetExportJob, DatasetGroup,
    EventTracker, Filter, MetricAttribution, ObjectRef as SpecRef, Recommender, Solution,
};
use serde::de::DeserializeOwned;

use crate::reconcile::dataset_group::InGroup;
use crate::reconcile::{Context, Error, Managed, error_policy, reconcile};
use crate::references::{References, refers};

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
    store
        .state()
        .into_iter()
        .filter(|obj| refers(obj.as_ref(), reference(obj), target))
        .map(|obj| ObjectRef::from_obj(obj.as_ref()))
        .collect()
}

async fn log<K: Resource>(result: Result<(ObjectRef<K>, Action), impl std::fmt::Display>)
where
    K::DynamicType: std::fmt::Debug,
{
    match result {
        Ok((obj, _)) => tracing::debug!(%obj, "reconciled"),
        Err(err) => tracing::debug!(%err, "reconcile error"),
    }
}

/// Makes a change of a DatasetGroup wake the objects of `controller` that reference it.
fn woken_by_groups<K: InGroup + Managed>(
    controller: Controller<K>,
    client: &kube::Client,
    namespace: Option<&str>,
    config: &watcher::Config,
) -> Controller<K> {
    let store = controller.store();
    let groups = api::<DatasetGroup>(client, namespace);
    controller.watches(groups, config.clone(), move |dg| {
        referrers(&store, &dg, |obj: &K| obj.group().1)
    })
}

/// Makes a change of a Solution (a new version) wake the objects of `controller` that
/// reference it through `reference`.
fn woken_by_solutions<K: Managed>(
    controller: Controller<K>,
    client: &kube::Client,
    namespace: Option<&str>,
    config: &watcher::Config,
    reference: fn(&K) -> Option<&SpecRef>,
) -> Controller<K> {
    let store = controller.store();
    let solutions = api::<Solution>(client, namespace);
    controller.watches(solutions, config.clone(), move |solution| {
        referrers(&store, &solution, reference)
    })
}

/// Runs one kind's controller until a shutdown signal.
async fn run_one<K: Managed>(controller: Controller<K>, ctx: Arc<Context>) {
    controller
        .shutdown_on_signal()
        .run(
            reconcile::<K>,
            |obj, err: &Error, ctx| error_policy(obj, err, ctx),
            ctx,
        )
        .for_each(log)
        .await;
}

/// Runs the controllers until a shutdown signal (SIGTERM/ctrl-c).
pub async fn run(ctx: Arc<Context>, namespace: Option<&str>) {
    let client = ctx.kube.clone();
    let config = watcher::Config::default().any_semantic();

    let dataset_groups = Controller::new(api::<DatasetGroup>(&client, namespace), config.clone());
    let solutions = Controller::new(api::<Solution>(&client, namespace), config.clone());
    let campaigns = Controller::new(api::<Campaign>(&client, namespace), config.clone());
    let trackers = Controller::new(api::<EventTracker>(&client, namespace), config.clone());
    let filters = Controller::new(api::<Filter>(&client, namespace), config.clone());
    let recommenders = Controller::new(api::<Recommender>(&client, namespace), config.clone());
    let attributions =
        Controller::new(api::<MetricAttribution>(&client, namespace), config.clone());
    let inference = Controller::new(api::<BatchInferenceJob>(&client, namespace), config.clone());
    let segments = Controller::new(api::<BatchSegmentJob>(&client, namespace), config.clone());
    let exports = Controller::new(api::<DatasetExportJob>(&client, namespace), config.clone());
    let deletions = Controller::new(api::<DataDeletionJob>(&client, namespace), config.clone());
    ctx.set_references(References {
        dataset_groups: dataset_groups.store(),
        solutions: solutions.store(),
        campaigns: campaigns.store(),
        event_trackers: trackers.store(),
        filters: filters.store(),
        recommenders: recommenders.store(),
        metric_attributions: attributions.store(),
        client: Some(client.clone()),
    });

    let store = solutions.store();
    let solutions = solutions.watches(
        api::<DatasetGroup>(&client, namespace),
        config.clone(),
        move |dg| {
            referrers(&store, &dg, |s: &Solution| {
                s.spec.dataset_group_ref.as_ref()
            })
        },
    );
    let trackers = woken_by_groups(trackers, &client, namespace, &config);
    let filters = woken_by_groups(filters, &client, namespace, &config);
    let recommenders = woken_by_groups(recommenders, &client, namespace, &config);
    let attributions = woken_by_groups(attributions, &client, namespace, &config);
    let exports = woken_by_groups(exports, &client, namespace, &config);
    let deletions = woken_by_groups(deletions, &client, namespace, &config);
    let inference = woken_by_solutions(inference, &client, namespace, &config, |j| {
        j.spec.source.solution_ref.as_ref()
    });
    let segments = woken_by_solutions(segments, &client, namespace, &config, |j| {
        j.spec.source.solution_ref.as_ref()
    });
    let campaigns = woken_by_solutions(campaigns, &client, namespace, &config, |c| {
        c.spec.solution_ref.as_ref()
    });

    tokio::join!(
        run_one(dataset_groups, ctx.clone()),
        run_one(solutions, ctx.clone()),
        run_one(campaigns, ctx.clone()),
        run_one(trackers, ctx.clone()),
        run_one(filters, ctx.clone()),
        run_one(recommenders, ctx.clone()),
        run_one(attributions, ctx.clone()),
        run_one(inference, ctx.clone()),
        run_one(segments, ctx.clone()),
        run_one(exports, ctx.clone()),
        run_one(deletions, ctx),
    );
}
