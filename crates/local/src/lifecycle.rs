//! Status strings and the timed state machines every resource goes through.
//!
//! `CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE`, `DELETE PENDING -> DELETE IN_PROGRESS ->
//! (gone)`, and the same for `latest*Update.status`. Each step takes `Config::transition`; with a
//! zero transition the steps happen inside the request (tests see ACTIVE at once). Import jobs and
//! solution versions have their own drivers (`import.rs`, `training.rs`) that use [`pause`].
//! After a restart, [`resume`] restarts every driver for a resource caught mid-transition.

use std::sync::Arc;

use crate::store::{Entry, Store};
use crate::{AppState, campaign, dataset, import, solution, training};

pub const CREATE_PENDING: &str = "CREATE PENDING";
pub const CREATE_IN_PROGRESS: &str = "CREATE IN_PROGRESS";
pub const ACTIVE: &str = "ACTIVE";
pub const CREATE_FAILED: &str = "CREATE FAILED";
pub const CREATE_STOPPING: &str = "CREATE STOPPING";
pub const CREATE_STOPPED: &str = "CREATE STOPPED";
pub const DELETE_PENDING: &str = "DELETE PENDING";
pub const DELETE_IN_PROGRESS: &str = "DELETE IN_PROGRESS";

/// Whether a status is a create still under way (such a resource cannot be deleted).
pub fn is_creating(status: &str) -> bool {
    status == CREATE_PENDING || status == CREATE_IN_PROGRESS || status == CREATE_STOPPING
}

/// Whether a status is a deletion under way.
pub fn is_deleting(status: &str) -> bool {
    status == DELETE_PENDING || status == DELETE_IN_PROGRESS
}

/// The status a newly created simple resource starts in.
pub fn initial_status(state: &AppState) -> &'static str {
    if state.config.transition.is_zero() {
        ACTIVE
    } else {
        CREATE_PENDING
    }
}

/// Waits one transition step.
pub async fn pause(state: &AppState) {
    if !state.config.transition.is_zero() {
        tokio::time::sleep(state.config.transition).await;
    }
}

/// Moves a resource from `from` to `to`; false when it is no longer in `from` (or gone).
pub fn step(state: &AppState, arn: &str, from: &[&str], to: &str) -> bool {
    let mut store = state.lock();
    let Some(mut entry) = store.resource(arn) else {
        return false;
    };
    if !entry.status().is_some_and(|s| from.contains(&s)) {
        return false;
    }
    let now = store.now();
    entry.set_status(to, now);
    store.commit(entry);
    true
}

/// Starts the create state machine of a simple resource created in [`initial_status`].
pub fn start_create(state: &AppState, arn: String) {
    if state.config.transition.is_zero() {
        return;
    }
    let state = Arc::clone(state);
    tokio::spawn(async move { drive_create(state, arn).await });
}

async fn drive_create(state: AppState, arn: String) {
    pause(&state).await;
    step(&state, &arn, &[CREATE_PENDING], CREATE_IN_PROGRESS);
    pause(&state).await;
    step(&state, &arn, &[CREATE_IN_PROGRESS], ACTIVE);
}

/// Starts deleting a resource: removed at once with zero transitions, else via DELETE PENDING.
pub fn start_delete(state: &AppState, store: &mut Store, arn: &str) {
    if state.config.transition.is_zero() {
        store.commit(Entry::Removed {
            arn: arn.to_string(),
        });
        return;
    }
    if let Some(mut entry) = store.resource(arn) {
        let now = store.now();
        entry.set_status(DELETE_PENDING, now);
        store.commit(entry);
    }
    let state = Arc::clone(state);
    let arn = arn.to_string();
    tokio::spawn(async move { drive_delete(state, arn).await });
}

async fn drive_delete(state: AppState, arn: String) {
    pause(&state).await;
    step(&state, &arn, &[DELETE_PENDING], DELETE_IN_PROGRESS);
    pause(&state).await;
    let mut store = state.lock();
    if store
        .resource(&arn)
        .is_some_and(|e| e.status() == Some(DELETE_IN_PROGRESS))
    {
        store.commit(Entry::Removed { arn });
    }
}

/// How an update state machine applies a status to `latest*Update` (and, at ACTIVE, copies the
/// update onto the resource).
pub type ApplyUpdate = fn(&mut Store, &str, &str);

/// Runs an update state machine (`latestCampaignUpdate`, `latestSolutionUpdate`,
/// `latestDatasetUpdate`), which starts in [`update_initial_status`].
pub fn start_update(state: &AppState, arn: String, apply: ApplyUpdate) {
    if state.config.transition.is_zero() {
        return;
    }
    let state = Arc::clone(state);
    tokio::spawn(async move {
        pause(&state).await;
        apply(&mut state.lock(), &arn, CREATE_IN_PROGRESS);
        pause(&state).await;
        apply(&mut state.lock(), &arn, ACTIVE);
    });
}

/// The status a new update starts in (ACTIVE, and applied at once, with zero transitions).
pub fn update_initial_status(state: &AppState) -> &'static str {
    initial_status(state)
}

/// Restarts the drivers of resources caught mid-transition by a restart.
pub fn resume(state: &AppState) {
    let store = state.lock();
    let mut creating = Vec::new();
    let mut deleting = Vec::new();
    let mut imports = Vec::new();
    let mut versions = Vec::new();
    let mut updates: Vec<(String, ApplyUpdate)> = Vec::new();
    let all = store
        .dataset_groups
        .keys()
        .chain(store.datasets.keys())
        .chain(store.solutions.keys())
        .chain(store.campaigns.keys())
        .chain(store.event_trackers.keys())
        .chain(store.filters.keys());
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
    for job in store.import_jobs.values() {
        if is_creating(&job.status) {
            imports.push(job.dataset_import_job_arn.clone());
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
    for arn in imports {
        tracing::info!(%arn, "resuming import job interrupted by a restart");
        import::start(state, arn);
    }
    for arn in versions {
        tracing::info!(%arn, "resuming training interrupted by a restart");
        training::start(state, arn);
    }
}
