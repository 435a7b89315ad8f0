//! What every asynchronous job shares (dataset import and export, data deletion, batch inference
//! and batch segment jobs): the end of its Create (the job record and its tags stored, the
//! driver started), the driver itself and its resumption after a restart.
//!
//! The driver: a pause, pending -> in progress, the job's work (without the store lock), a
//! pause, then done (committed by the job's [`Job::finish`], with whatever its work produced) or
//! failed with the reason. A job still pending or in progress after a restart is driven again
//! from the start. Depends on the store and `lifecycle.rs`; never on the jobs that use it.

use std::future::Future;
use std::sync::{Arc, MutexGuard};

use crate::resources::AppState;
use crate::resources::lifecycle::{
    self, ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS, CREATE_PENDING,
};
use crate::resources::resource::{Created, Resource};
use crate::resources::tags;
use crate::store::model::Tag;
use crate::store::{Entry, Store};

/// The statuses a job moves through.
pub struct Statuses {
    /// The status it is created in.
    pub pending: &'static str,
    /// The status while its work runs.
    pub in_progress: &'static str,
    /// The status once its work succeeded.
    pub done: &'static str,
    /// The status once its work failed (with `failureReason`).
    pub failed: &'static str,
}

/// The statuses of the jobs created like resources:
/// `CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE | CREATE FAILED`.
pub const CREATE: Statuses = Statuses {
    pending: CREATE_PENDING,
    in_progress: CREATE_IN_PROGRESS,
    done: ACTIVE,
    failed: CREATE_FAILED,
};

/// A kind of job, implemented by its stored record: its statuses, its work and how its success
/// is committed.
pub trait Job: Resource + 'static {
    /// What its work produces for [`Job::finish`].
    type Output: Send;
    /// What logs call it (`import job`).
    const NAME: &'static str;
    /// The statuses it moves through.
    const STATUSES: Statuses = CREATE;

    /// The work of job `arn` (which is in progress), done without the store lock; a failure
    /// comes with its reason.
    fn run(
        state: &AppState,
        arn: &str,
    ) -> impl Future<Output = Result<Self::Output, String>> + Send;

    /// Commits job `arn`, already in its done status, with what its work produced.
    fn finish(store: &mut Store, arn: &str, job: Entry, _output: Self::Output) {
        tracing::info!(%arn, "{} finished", Self::NAME);
        store.commit(job);
    }
}

/// The end of a job's Create: stores the job record (`record`, in the pending status) and the
/// tags given, releases the store and starts the driver.
pub fn launch<J: Job>(
    state: &AppState,
    mut store: MutexGuard<'_, Store>,
    arn: String,
    record: Entry,
    tags: Option<Vec<Tag>>,
) -> Created<J> {
    store.commit(record);
    tags::set_on_create(&mut store, &arn, tags);
    drop(store);
    start::<J>(state, arn.clone());
    Created::new(arn)
}

/// Starts (or, after a restart, re-runs) the driver of job `arn`.
pub fn start<J: Job>(state: &AppState, arn: String) {
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let statuses = &J::STATUSES;
        lifecycle::pause(&state).await;
        lifecycle::step(&state, &arn, &[statuses.pending], statuses.in_progress);
        if status_of(&state.lock(), &arn).as_deref() != Some(statuses.in_progress) {
            return;
        }
        let outcome = J::run(&state, &arn).await;
        lifecycle::pause(&state).await;
        let mut store = state.lock();
        let Some(mut job) = store.resource(&arn) else {
            return;
        };
        if job.status() != Some(statuses.in_progress) {
            return;
        }
        let now = store.now();
        match outcome {
            Ok(output) => {
                job.set_status(statuses.done, now);
                J::finish(&mut store, &arn, job, output);
            }
            Err(reason) => {
                tracing::info!(%arn, %reason, "{} failed", J::NAME);
                job.set_status(statuses.failed, now);
                job.set_failure(&reason);
                store.commit(job);
            }
        }
    });
}

/// A job of kind `J` still pending or in progress on `parent` (what its List filters on: the
/// dataset of an import or export job, the dataset group of a data deletion job).
pub fn running<J: Job>(store: &Store, parent: &str) -> Option<String> {
    J::table(store)
        .iter()
        .filter(|(_, job)| job.parent_arn() == parent)
        .map(|(arn, _)| arn)
        .find(|arn| is_unfinished::<J>(store, arn))
        .cloned()
}

/// Restarts the driver of every job of kind `J` still pending or in progress (after a restart).
pub fn resume<J: Job>(state: &AppState) {
    let unfinished: Vec<String> = {
        let store = state.lock();
        J::table(&store)
            .keys()
            .filter(|arn| is_unfinished::<J>(&store, arn))
            .cloned()
            .collect()
    };
    for arn in unfinished {
        tracing::info!(%arn, "resuming {} interrupted by a restart", J::NAME);
        start::<J>(state, arn);
    }
}

/// Whether job `arn` of kind `J` is still pending or in progress.
fn is_unfinished<J: Job>(store: &Store, arn: &str) -> bool {
    let statuses = &J::STATUSES;
    status_of(store, arn).is_some_and(|s| s == statuses.pending || s == statuses.in_progress)
}

/// The status of resource `arn`, if it has one.
fn status_of(store: &Store, arn: &str) -> Option<String> {
    store
        .resource(arn)
        .and_then(|e| e.status().map(str::to_string))
}
