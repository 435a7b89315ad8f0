//! The resources layer: one module per Personalize resource (its operations and what is specific
//! to it), the generic stored-resource operations in [`resource`], the state machines in
//! [`lifecycle`], the engine bridge ([`training`], [`serving`]) and the shared [`state`]. Depends
//! on the store and the wire layer; never on the router.

pub mod algorithm;
pub mod auto_training;
pub mod batch;
pub mod batch_inference;
pub mod batch_segment;
pub mod campaign;
pub mod cloudwatch;
pub mod data_deletion;
pub mod dataset;
pub mod dataset_group;
pub mod event_tracker;
pub mod events;
pub mod export;
pub mod filter;
pub mod import;
pub mod item_metadata;
pub mod job;
pub mod lifecycle;
pub mod metric_attribution;
pub mod next_best_action;
pub mod objects;
pub mod promotion;
pub mod recipe;
pub mod recommender;
pub mod resource;
pub mod runtime;
pub mod s3;
pub mod schema;
pub mod serving;
pub mod shapes;
pub mod solution;
pub mod solution_config;
pub mod solution_version;
pub mod state;
pub mod tags;
pub mod training;
pub mod training_data;
pub mod use_case;

use std::sync::Arc;

use lifecycle::{
    ACTIVE, ApplyUpdate, CREATE_IN_PROGRESS, CREATE_PENDING, drive_create, drive_delete,
    is_creating, is_deleting, start_update, step,
};
pub use state::{AppState, Shared};

use crate::store::model::{
    BatchInferenceJob, BatchSegmentJob, DataDeletionJob, DatasetExportJob, DatasetImportJob,
};

/// Restarts the drivers of work interrupted by a restart (imports, exports, data deletions,
/// training, transitions), and
/// starts the auto-training scheduler and the CloudWatch publisher of metric attributions.
pub fn resume(state: &AppState) {
    resume_drivers(state);
    recommender::resume(state);
    tokio::spawn(auto_training::run(
        Arc::downgrade(state),
        state.config.auto_training_first_delay,
    ));
    if let Some(endpoint) = &state.config.cloudwatch_endpoint {
        tokio::spawn(cloudwatch::run(
            Arc::downgrade(state),
            endpoint.clone(),
            state.config.cloudwatch_interval,
        ));
    }
}

/// Restarts the drivers of resources caught mid-transition by a restart.
fn resume_drivers(state: &AppState) {
    let store = state.lock();
    let mut creating = Vec::new();
    let mut deleting = Vec::new();
    let mut versions = Vec::new();
    let mut updates: Vec<(String, ApplyUpdate)> = Vec::new();
    let all = store
        .dataset_groups
        .keys()
        .chain(store.datasets.keys())
        .chain(store.solutions.keys())
        .chain(store.campaigns.keys())
        .chain(store.event_trackers.keys())
        .chain(store.filters.keys())
        .chain(store.metric_attributions.keys());
    for arn in all {
        let Some(entry) = store.resource(arn) else {
            continue;
        };
        let status = entry.status().unwrap_or_default();
        if status == CREATE_PENDING || status == CREATE_IN_PROGRESS {
            creating.push(arn.clone());
        } else if is_deleting(status) {
            deleting.push(arn.clone());
        }
    }
    for v in store.solution_versions.values() {
        if is_creating(&v.status) {
            versions.push(v.solution_version_arn.clone());
        }
    }
    for c in store.campaigns.values() {
        if c.latest_campaign_update
            .as_ref()
            .is_some_and(|u| is_creating(&u.status))
        {
            updates.push((c.campaign_arn.clone(), campaign::apply_update));
        }
    }
    for s in store.solutions.values() {
        if s.latest_solution_update
            .as_ref()
            .is_some_and(|u| is_creating(&u.status))
        {
            updates.push((s.solution_arn.clone(), solution::apply_update));
        }
    }
    for d in store.datasets.values() {
        if d.latest_dataset_update
            .as_ref()
            .is_some_and(|u| is_creating(&u.status))
        {
            updates.push((d.dataset_arn.clone(), dataset::apply_update));
        }
    }
    drop(store);
    let instant = state.config.transition.is_zero();
    for arn in creating {
        if instant {
            step(state, &arn, &[CREATE_PENDING, CREATE_IN_PROGRESS], ACTIVE);
        } else {
            let state = Arc::clone(state);
            tokio::spawn(async move { drive_create(state, arn).await });
        }
    }
    for arn in deleting {
        let state = Arc::clone(state);
        tokio::spawn(async move { drive_delete(state, arn).await });
    }
    for (arn, apply) in updates {
        if instant {
            apply(&mut state.lock(), &arn, ACTIVE);
        } else {
            start_update(state, arn, apply);
        }
    }
    job::resume::<DatasetImportJob>(state);
    for arn in versions {
        tracing::info!(%arn, "resuming training interrupted by a restart");
        training::start(state, arn);
    }
    job::resume::<DatasetExportJob>(state);
    job::resume::<DataDeletionJob>(state);
    job::resume::<BatchInferenceJob>(state);
    job::resume::<BatchSegmentJob>(state);
}
