//! Status strings and the timed state machines every resource goes through.
//!
//! `CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE`, `DELETE PENDING -> DELETE IN_PROGRESS ->
//! (gone)`, and the same for `latest*Update.status`. Each step takes `Config::transition`; with a
//! zero transition the steps happen inside the request (tests see ACTIVE at once). Jobs, solution
//! versions and recommenders have their own drivers (`job.rs`, `training.rs`, `recommender.rs`)
//! that use [`pause`] and [`step`].
//! After a restart, `resources::resume` restarts every driver for a resource caught mid-transition.
//! Depends on the store only; never on the resources that use it.

use std::sync::{Arc, MutexGuard};

use crate::resources::AppState;
use crate::store::{Entry, Store};

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

/// The first step of a long create's driver (training, recommenders): a pause, then CREATE PENDING -> CREATE
/// IN_PROGRESS.
pub async fn begin_job(state: &AppState, arn: &str) {
    pause(state).await;
    step(state, arn, &[CREATE_PENDING], CREATE_IN_PROGRESS);
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

pub(crate) async fn drive_create(state: AppState, arn: String) {
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

pub(crate) async fn drive_delete(state: AppState, arn: String) {
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

/// Stores a resource whose `latest*Update` was just started in `status` (see
/// [`update_initial_status`]), releases the store and runs the update state machine: applied at
/// once when the update starts ACTIVE, else step by step in the background.
pub fn begin_update(
    state: &AppState,
    mut store: MutexGuard<'_, Store>,
    entry: Entry,
    arn: &str,
    status: &str,
    apply: ApplyUpdate,
) {
    store.commit(entry);
    if status == ACTIVE {
        apply(&mut store, arn, ACTIVE);
    }
    drop(store);
    start_update(state, arn.to_string(), apply);
}

/// The status a new update starts in (ACTIVE, and applied at once, with zero transitions).
pub fn update_initial_status(state: &AppState) -> &'static str {
    initial_status(state)
}
