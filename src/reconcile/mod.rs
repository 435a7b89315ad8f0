//! The reconcile loops. Each kind has its own module with the same shape:
//! `reconcile` (the finalizer wraps everything) -> `apply` (resolve references, create or adopt,
//! describe, update, decide an [`Outcome`]) or `cleanup` (delete in Personalize's order).
//! This module holds what they share: the [`Context`], the error type, status writing, events
//! and the requeue/backoff policy.

pub mod campaign;
pub mod dataset_group;
pub mod event_tracker;
pub mod ownership;
pub mod solution;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{self, finalizer};
use kube::{Resource, ResourceExt};
use personalize_api::{FIELD_MANAGER, FINALIZER, ResourceStatus};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws::{AwsError, Clients, ErrorKind};
use crate::outcome::{Outcome, Timing, backoff, conditions};

/// What every reconciler shares.
pub struct Context {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// Personalize clients per region.
    pub aws: Clients,
    /// Publishes Kubernetes Events.
    pub recorder: Recorder,
    /// Poll and resync intervals.
    pub timing: Timing,
    /// Consecutive failures per object uid, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
    /// The last status this process wrote, per object uid. The watch cache can hand a reconcile
    /// an object from before that write (the write's own event not yet seen); the reconcile then
    /// starts from the status written, not from the stale one, and does not redo its work.
    written: Mutex<HashMap<String, serde_json::Value>>,
    /// When [`Context::due`] last said yes, per key.
    done: Mutex<HashMap<String, std::time::Instant>>,
}

impl Context {
    /// A context for the reconcilers.
    pub fn new(kube: kube::Client, aws: Clients, recorder: Recorder, timing: Timing) -> Self {
        Self {
            kube,
            aws,
            recorder,
            timing,
            failures: Mutex::default(),
            written: Mutex::default(),
            done: Mutex::default(),
        }
    }

    /// True at most once per `period` for a `key` (an idempotent write worth repeating now and
    /// then, such as re-applying an unchanged Secret): the caller acts only when it is true.
    pub fn due(&self, key: String, period: Duration) -> bool {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        match done.get(&key) {
            Some(at) if now.duration_since(*at) < period => false,
            _ => {
                done.insert(key, now);
                true
            }
        }
    }

    /// Forgets a [`Context::due`] key (the action failed: do it again next time).
    pub fn forget(&self, key: &str) {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    fn written(&self) -> std::sync::MutexGuard<'_, HashMap<String, serde_json::Value>> {
        self.written.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The object with the status this process last wrote for it, when the cached object is
    /// older than that write. Only this process writes status, so a difference means staleness.
    fn with_written_status<K>(&self, obj: Arc<K>) -> Arc<K>
    where
        K: Resource + HasStatus + Serialize + DeserializeOwned,
        K::Status: Serialize,
    {
        let Some(uid) = obj.meta().uid.as_deref() else {
            return obj;
        };
        // Only the status is compared; the whole object is rebuilt only when it is stale.
        let current = serde_json::to_value(obj.status()).ok();
        let written = match self.written().get(uid) {
            Some(written) if current.as_ref() != Some(written) => written.clone(),
            _ => return obj,
        };
        let Ok(mut value) = serde_json::to_value(obj.as_ref()) else {
            return obj;
        };
        value["status"] = written;
        serde_json::from_value(value).map(Arc::new).unwrap_or(obj)
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one more failure of an object and returns the backoff before the next try.
    fn next_backoff(&self, uid: &str) -> Duration {
        let mut failures = self.failures();
        let attempt = failures.entry(uid.to_owned()).or_insert(0);
        *attempt += 1;
        let salt = naming_salt(uid, *attempt);
        backoff(
            *attempt,
            Duration::from_secs(2),
            Duration::from_secs(300),
            salt,
        )
    }

    fn reset_backoff(&self, uid: &str) {
        self.failures().remove(uid);
    }

    /// Publishes a Kubernetes Event about an object (failures to publish are only logged).
    pub async fn event<K>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) where
        K: Resource<DynamicType = ()>,
    {
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(note),
            action: action.to_owned(),
            secondary: None,
        };
        // Published in the background: an Event never delays a reconcile.
        let recorder = self.recorder.clone();
        let reference = obj.object_ref(&());
        tokio::spawn(async move {
            if let Err(err) = recorder.publish(&event, &reference).await {
                tracing::warn!(%err, reason = %event.reason, "could not publish a Kubernetes Event");
            }
        });
    }

    /// Publishes a Normal event for an AWS mutation.
    pub async fn mutated<K>(&self, obj: &K, action: &str, note: String)
    where
        K: Resource<DynamicType = ()>,
    {
        self.event(obj, EventType::Normal, action, action, note)
            .await;
    }
}

fn naming_salt(uid: &str, attempt: u32) -> u64 {
    let hash = crate::naming::short_hash(&format!("{uid}/{attempt}"));
    u64::from_str_radix(&hash, 16).unwrap_or(0)
}

/// Reconcile failures that are not decisions about the AWS resource.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// An AWS call failed (classified; the caller decides what it means).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Adding or removing the finalizer failed.
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<finalizer::Error<Error>>),
    /// Deletion waits for something (children, AWS still deleting); not a failure.
    #[error("deletion waits: {0}")]
    Waiting(String),
    /// The object has no namespace (every kind is namespaced).
    #[error("object has no namespace")]
    NoNamespace,
}

impl Error {
    /// The metrics category of a failure; `None` for deletion waits, which are not failures.
    pub fn category(&self) -> Option<&'static str> {
        match self {
            Error::Kube(_) => Some("Kubernetes"),
            Error::Aws(aws) => Some(aws.kind.as_str()),
            Error::Finalizer(_) => Some("Finalizer"),
            Error::Waiting(_) => None,
            Error::NoNamespace => Some("NoNamespace"),
        }
    }
}

/// The status types of the four kinds, which share [`ResourceStatus`].
pub trait HasResource {
    /// The shared part of the status.
    fn resource(&self) -> &ResourceStatus;
    /// The shared part of the status, mutably.
    fn resource_mut(&mut self) -> &mut ResourceStatus;
}

macro_rules! has_resource {
    ($($t:ty),*) => {$(
        impl HasResource for $t {
            fn resource(&self) -> &ResourceStatus { &self.resource }
            fn resource_mut(&mut self) -> &mut ResourceStatus { &mut self.resource }
        }
    )*};
}
has_resource!(
    personalize_api::DatasetGroupStatus,
    personalize_api::SolutionStatus,
    personalize_api::CampaignStatus,
    personalize_api::EventTrackerStatus
);

/// The namespace of a namespaced object.
pub fn namespace<K: Resource>(obj: &K) -> Result<String, Error> {
    obj.meta().namespace.clone().ok_or(Error::NoNamespace)
}

/// Runs `apply` or `cleanup` under the finalizer.
pub async fn with_finalizer<K, A, C>(
    obj: Arc<K>,
    ctx: &Context,
    apply: impl FnOnce(Arc<K>) -> A,
    cleanup: impl FnOnce(Arc<K>) -> C,
) -> Result<Action, Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
    K::Status: HasResource + Serialize,
    A: Future<Output = Result<Action, Error>>,
    C: Future<Output = Result<Action, Error>>,
{
    let kind = K::kind(&());
    let metrics = crate::metrics::global();
    let _in_flight = metrics.reconcile(&kind);
    let api: Api<K> = Api::namespaced(ctx.kube.clone(), &namespace(obj.as_ref())?);
    let obj = ctx.with_written_status(obj);
    let uid = obj.meta().uid.clone().unwrap_or_default();
    let result = finalizer(&api, FINALIZER, obj, |event| async move {
        match event {
            // Personalize refused this spec as invalid: only a new spec can change that, so
            // nothing is sent to AWS again until the generation moves (no hot loop).
            finalizer::Event::Apply(obj) if rejected_for_this_generation(obj.as_ref()) => {
                Ok(Action::await_change())
            }
            finalizer::Event::Apply(obj) => apply(obj).await,
            finalizer::Event::Cleanup(obj) => {
                let done = cleanup(obj).await;
                if done.is_ok() {
                    ctx.written().remove(&uid);
                }
                done
            }
        }
    })
    .await
    .map_err(|err| match err {
        finalizer::Error::ApplyFailed(err) | finalizer::Error::CleanupFailed(err) => err,
        other => Error::Finalizer(Box::new(other)),
    });
    if let Err(err) = &result
        && let Some(category) = err.category()
    {
        metrics.error(&kind, category);
    }
    result
}

/// Whether Personalize rejected the current generation of the spec as invalid input.
fn rejected_for_this_generation<K: Resource + HasStatus>(obj: &K) -> bool
where
    K::Status: HasResource,
{
    obj.status()
        .and_then(|s| {
            s.resource()
                .condition(personalize_api::conditions::TERMINAL)
        })
        .is_some_and(|c| {
            c.status == "True"
                && c.reason == INVALID_INPUT
                && c.observed_generation == obj.meta().generation
        })
}

/// The reason of the Terminal condition when Personalize rejects a request as invalid.
pub const INVALID_INPUT: &str = "InvalidInput";

/// What an AWS error means as an outcome; errors that are not AWS's are passed on.
pub fn outcome_of(err: Error) -> Result<Outcome, Error> {
    match err {
        Error::Aws(aws) => Ok(match aws.kind {
            ErrorKind::InvalidInput => Outcome::Terminal {
                reason: INVALID_INPUT,
                message: aws.to_string(),
            },
            ErrorKind::InUse => Outcome::Progressing {
                reason: "ResourceInUse",
                message: aws.to_string(),
            },
            ErrorKind::Throttled => Outcome::Retrying {
                reason: "Throttled",
                message: aws.to_string(),
            },
            _ => Outcome::Retrying {
                reason: "AwsError",
                message: aws.to_string(),
            },
        }),
        other => Err(other),
    }
}

/// Writes the status (with conditions for `outcome`) if it changed, publishes a Warning event
/// when the outcome turns Terminal, and says when to look again.
pub async fn finish<K>(
    obj: &K,
    ctx: &Context,
    mut status: K::Status,
    outcome: Outcome,
    with_references: bool,
) -> Result<Action, Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
    K::Status: HasResource + Serialize + PartialEq + Clone,
{
    let previous = obj
        .status()
        .map(|s| s.resource().conditions.clone())
        .unwrap_or_default();
    let resource = status.resource_mut();
    resource.conditions = conditions(
        &previous,
        &outcome,
        with_references,
        obj.meta().generation,
        Timestamp::now(),
    );
    resource.observed_generation = obj.meta().generation;
    if obj.status() != Some(&status) {
        patch_status(obj, ctx, &status).await?;
    }
    let was_terminal = previous
        .iter()
        .any(|c| c.type_ == personalize_api::conditions::TERMINAL && c.status == "True");
    if let Outcome::Terminal { reason, message } = &outcome
        && !was_terminal
    {
        ctx.event(
            obj,
            EventType::Warning,
            reason,
            "Reconcile",
            message.clone(),
        )
        .await;
    }
    if let Outcome::Retrying { reason, .. } | Outcome::Terminal { reason, .. } = &outcome {
        crate::metrics::global().error(&K::kind(&()), reason);
    }
    let uid = obj.uid().unwrap_or_default();
    if let Outcome::Retrying { message, .. } = &outcome {
        let wait = ctx.next_backoff(&uid);
        tracing::warn!(name = %obj.name_any(), %message, ?wait, "retrying after an AWS error");
        return Ok(Action::requeue(wait));
    }
    ctx.reset_backoff(&uid);
    Ok(match outcome.requeue_after(ctx.timing) {
        Some(after) => Action::requeue(after),
        None => Action::await_change(),
    })
}

/// Server-side applies the status subresource.
pub async fn patch_status<K>(obj: &K, ctx: &Context, status: &K::Status) -> Result<(), Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
    K::Status: Serialize,
{
    let api: Api<K> = Api::namespaced(ctx.kube.clone(), &namespace(obj)?);
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    if let (Some(uid), Ok(value)) = (obj.uid(), serde_json::to_value(status)) {
        ctx.written().insert(uid, value);
    }
    Ok(())
}

/// Objects with a typed status.
pub trait HasStatus {
    /// The status type.
    type Status;
    /// The status, if any.
    fn status(&self) -> Option<&Self::Status>;
}

macro_rules! has_status {
    ($($k:ty => $s:ty),*) => {$(
        impl HasStatus for $k {
            type Status = $s;
            fn status(&self) -> Option<&$s> { self.status.as_ref() }
        }
    )*};
}
has_status!(
    personalize_api::DatasetGroup => personalize_api::DatasetGroupStatus,
    personalize_api::Solution => personalize_api::SolutionStatus,
    personalize_api::Campaign => personalize_api::CampaignStatus,
    personalize_api::EventTracker => personalize_api::EventTrackerStatus
);

/// Marks an object as being deleted (writes a Ready=False "Deleting" condition) and returns the
/// error that makes the finalizer keep it and look again soon.
pub async fn still_deleting<K>(
    obj: &K,
    ctx: &Context,
    reason: &'static str,
    message: String,
) -> Error
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
    K::Status: HasResource + Serialize + PartialEq + Clone + Default,
{
    let mut status = obj.status().cloned().unwrap_or_default();
    let outcome = Outcome::Progressing {
        reason,
        message: message.clone(),
    };
    let previous = status.resource().conditions.clone();
    status.resource_mut().conditions = conditions(
        &previous,
        &outcome,
        false,
        obj.meta().generation,
        Timestamp::now(),
    );
    if obj.status() != Some(&status)
        && let Err(err) = patch_status(obj, ctx, &status).await
    {
        return err;
    }
    Error::Waiting(message)
}

/// The controllers' error policy: deletion waits poll; everything else backs off exponentially.
pub fn error_policy<K: Resource>(obj: Arc<K>, err: &Error, ctx: Arc<Context>) -> Action {
    match err {
        Error::Waiting(_) => Action::requeue(ctx.timing.poll),
        _ => {
            let wait = ctx.next_backoff(&obj.meta().uid.clone().unwrap_or_default());
            tracing::warn!(%err, ?wait, "reconcile failed");
            Action::requeue(wait)
        }
    }
}

/// Where deleting one Personalize resource stands after [`delete_step`].
#[derive(Debug, PartialEq, Eq)]
pub enum DeleteStep {
    /// Personalize no longer knows the resource.
    Gone,
    /// The delete call was accepted just now.
    Requested,
    /// Deletion is under way or blocked for now (in use, in progress): why.
    Waiting(String),
}

/// One idempotent step of deleting a resource: `status` describes it (its status string), and
/// `delete` is called unless it is gone or already deleting. NotFound anywhere means gone;
/// ResourceInUse means wait.
pub async fn delete_step(
    what: &str,
    status: impl Future<Output = Result<String, AwsError>>,
    delete: impl Future<Output = Result<(), AwsError>>,
) -> Result<DeleteStep, AwsError> {
    match status.await {
        Err(err) if err.is_not_found() => return Ok(DeleteStep::Gone),
        Err(err) => return Err(err),
        Ok(state) if state.starts_with("DELETE") => {
            return Ok(DeleteStep::Waiting(format!("{what} is {state}")));
        }
        Ok(_) => {}
    }
    match delete.await {
        Ok(()) => Ok(DeleteStep::Requested),
        Err(err) if err.is_not_found() => Ok(DeleteStep::Gone),
        Err(err) if err.kind == ErrorKind::InUse => Ok(DeleteStep::Waiting(err.to_string())),
        Err(err) => Err(err),
    }
}

/// The cleanup result for a CR whose single AWS resource went through [`delete_step`]: done when
/// gone; otherwise an event for a new deletion and a wait (the finalizer stays).
pub async fn after_delete_step<K>(
    obj: &K,
    ctx: &Context,
    step: DeleteStep,
    action: &str,
    arn: &str,
) -> Result<Action, Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
    K::Status: HasResource + Serialize + PartialEq + Clone + Default,
{
    match step {
        DeleteStep::Gone => Ok(Action::await_change()),
        DeleteStep::Requested => {
            ctx.mutated(obj, action, format!("deleting {arn}")).await;
            Err(still_deleting(obj, ctx, "Deleting", format!("deletion of {arn} requested")).await)
        }
        DeleteStep::Waiting(message) => Err(still_deleting(obj, ctx, "Deleting", message).await),
    }
}

/// With `deletionPolicy: Retain`, records that the AWS resource stays and lets the CR go.
pub async fn retain<K>(obj: &K, ctx: &Context, what: &str) -> Action
where
    K: Resource<DynamicType = ()>,
{
    ctx.mutated(
        obj,
        "Retain",
        format!("deletionPolicy is Retain: the {what} stays in Personalize"),
    )
    .await;
    Action::await_change()
}
