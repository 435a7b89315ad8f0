//! The reconcile loop every kind shares, and one module per kind.
//!
//! A kind implements [`Managed`]: `sync` (desired state from the spec, its references, its
//! Personalize resources in order, each through [`crate::resource::sync`]) and `cleanup` (its
//! resources deleted in Personalize's order). [`reconcile`] does the rest for all of them: the
//! finalizer, `deletionPolicy: Retain`, status and conditions, Events for every change made in
//! Personalize, and when to look again.

pub mod batch;
pub mod batch_inference_job;
pub mod batch_segment_job;
pub mod campaign;
pub mod data_deletion_job;
pub mod dataset_export_job;
pub mod dataset_group;
pub mod event_tracker;
pub mod filter;
pub mod metric_attribution;
pub mod publish;
pub mod recommender;
pub mod rollout;
pub mod runs;
pub mod solution;
pub mod training;

#[cfg(test)]
pub(crate) mod testing;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{self, finalizer};
use kube::{Resource, ResourceExt};
use personalize_api::{DeletionPolicy, FIELD_MANAGER, FINALIZER, ResourceStatus};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::naming::{ADOPT_ANNOTATION, OBSERVE_ANNOTATION, PAUSED_ANNOTATION, owner};
use crate::outcome::{Outcome, Timing, backoff, conditions};
use crate::personalize::read_only::ReadOnly;
use crate::personalize::{AwsError, Backend, ErrorKind, Observation, Personalize, Tags, region_of};
use crate::references::References;
use crate::resource::{
    self, AwsResource, Change, Changes, Deletion, OBSERVE_ONLY, Ownership, Pending, Synced,
};

/// What every reconciler shares.
pub struct Context {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// Personalize, by region.
    pub personalize: Arc<dyn Backend>,
    /// Publishes Kubernetes Events.
    pub recorder: Recorder,
    /// Poll and resync intervals.
    pub timing: Timing,
    /// Reads the gateways' counts for rollout analyses.
    pub scrape: Arc<dyn crate::scrape::Scrape>,
    /// The controllers' caches, set once the controllers are built.
    references: OnceLock<References>,
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
    pub fn new(
        kube: kube::Client,
        personalize: Arc<dyn Backend>,
        recorder: Recorder,
        timing: Timing,
    ) -> Self {
        Self {
            kube,
            personalize,
            recorder,
            timing,
            scrape: Arc::new(crate::scrape::Http::default()),
            references: OnceLock::new(),
            failures: Mutex::default(),
            written: Mutex::default(),
            done: Mutex::default(),
        }
    }

    /// Gives the reconcilers the controllers' caches (once; later calls are ignored).
    pub fn set_references(&self, references: References) {
        let _ = self.references.set(references);
    }

    fn references(&self) -> Result<&References, Error> {
        self.references
            .get()
            .ok_or_else(|| Error::Waiting("the controllers' caches are not set up yet".into()))
    }

    /// True at most once per `period` for a `key` (an idempotent write worth repeating now and
    /// then, such as re-applying an unchanged Secret): the caller acts only when it is true.
    pub fn due(&self, key: String, period: Duration) -> bool {
        let mut done = lock(&self.done);
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
        lock(&self.done).remove(key);
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
        let written = match lock(&self.written).get(uid) {
            Some(written) if current.as_ref() != Some(written) => written.clone(),
            _ => return obj,
        };
        let Ok(mut value) = serde_json::to_value(obj.as_ref()) else {
            return obj;
        };
        value["status"] = written;
        serde_json::from_value(value).map(Arc::new).unwrap_or(obj)
    }

    /// Records one more failure of an object and returns the backoff before the next try.
    fn next_backoff(&self, uid: &str) -> Duration {
        let mut failures = lock(&self.failures);
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
        lock(&self.failures).remove(uid);
    }

    /// Publishes a Kubernetes Event about an object, in the background: an Event never delays a
    /// reconcile, and failures to publish are only logged.
    pub fn event<K>(&self, obj: &K, type_: EventType, reason: &str, action: &str, note: String)
    where
        K: Resource<DynamicType = ()>,
    {
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(note),
            action: action.to_owned(),
            secondary: None,
        };
        let recorder = self.recorder.clone();
        let reference = obj.object_ref(&());
        tokio::spawn(async move {
            if let Err(err) = recorder.publish(&event, &reference).await {
                tracing::warn!(%err, reason = %event.reason, "could not publish a Kubernetes Event");
            }
        });
    }

    /// Publishes an Event for each change made (Warning for warnings, else Normal).
    fn publish<K: Resource<DynamicType = ()>>(&self, obj: &K, changes: Vec<Change>) {
        for change in changes {
            let type_ = match change.warning {
                true => EventType::Warning,
                false => EventType::Normal,
            };
            self.event(obj, type_, &change.action, &change.action, change.note);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn naming_salt(uid: &str, attempt: u32) -> u64 {
    let hash = crate::naming::short_hash(&format!("{uid}/{attempt}"));
    u64::from_str_radix(&hash, 16).unwrap_or(0)
}

/// What a kind's `sync` and `cleanup` get: Personalize, the references, and where to record
/// what they change. No Kubernetes client: kinds are testable on a fake in milliseconds.
pub struct Env<'a> {
    /// Personalize, by region (see [`Env::personalize`]).
    backend: &'a dyn Backend,
    /// The object is observe-only: Personalize is reached through a client that refuses every
    /// write, so whatever a kind decides, nothing is created, changed or deleted.
    observe: bool,
    /// The controllers' caches.
    pub references: &'a References,
    /// Reads the gateways' counts (rollout analyses).
    pub scrape: &'a dyn crate::scrape::Scrape,
    /// The current time (schedules).
    pub now: Timestamp,
    /// What was changed in Personalize, for Events.
    pub changes: Changes,
}

impl<'a> Env<'a> {
    /// An environment with nothing changed yet.
    pub fn new(
        personalize: &'a dyn Backend,
        references: &'a References,
        scrape: &'a dyn crate::scrape::Scrape,
    ) -> Self {
        Self {
            backend: personalize,
            observe: false,
            references,
            scrape,
            now: Timestamp::now(),
            changes: Changes::default(),
        }
    }

    /// The same environment for an observe-only object (`true`): every write is refused.
    pub fn observing(mut self, observe: bool) -> Self {
        self.observe = observe;
        self
    }

    /// The Personalize client for a region (`None`: the default region).
    pub fn personalize(&self, region: Option<&str>) -> Arc<dyn Personalize> {
        let api = self.backend.personalize(region);
        if self.observe {
            Arc::new(ReadOnly(api))
        } else {
            api
        }
    }

    /// Syncs a resource `obj` owns through its owner tag (its own Personalize resource), in
    /// `region`, keeping its ARN in `arn`; `known` saves the Describe (see [`resource::sync`]).
    pub async fn sync_owned<K: Resource, R: AwsResource>(
        &self,
        obj: &K,
        region: Option<&str>,
        desired: &R,
        arn: &mut Option<String>,
        known: Option<Observation<R::Details>>,
    ) -> Result<Synced<R::Details>, Error> {
        let api = self.personalize(region);
        let ownership = ownership(obj);
        let changes = &self.changes;
        Ok(resource::sync(api.as_ref(), desired, &ownership, arn, known, changes).await?)
    }

    /// Syncs the object's own resource (its ARN in `status.arn`) in the region of the ARN it
    /// derives from (`desired`'s anchor): what most kinds' `sync` does.
    pub async fn sync_own<K: Managed, R: AwsResource>(
        &self,
        obj: &K,
        desired: &R,
        status: &mut K::Status,
    ) -> Result<Synced<R::Details>, Error> {
        let region = desired.anchor().and_then(region_of).map(str::to_owned);
        let arn = &mut status.resource_mut().arn;
        self.sync_owned(obj, region.as_deref(), desired, arn, None)
            .await
    }

    /// One step of deleting the resource at `arn` (none: nothing was ever created).
    pub async fn delete_owned<R: AwsResource>(
        &self,
        arn: Option<String>,
    ) -> Result<Deletion, Error> {
        let Some(arn) = arn else {
            return Ok(Deletion::Gone);
        };
        let api = self.personalize(region_of(&arn));
        Ok(resource::delete::<R>(api.as_ref(), &arn, &self.changes).await?)
    }
}

/// The ARN of an object's own Personalize resource, once known.
pub fn own_arn<K: Managed>(obj: &K) -> Option<String> {
    obj.status().and_then(|s| s.resource().arn.clone())
}

/// What a kind's sync decided: the outcome, or a failure that is not about the AWS resource.
pub type Decided = Result<Outcome, Error>;

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

/// Objects with a typed status.
pub trait HasStatus {
    /// The status type.
    type Status;
    /// The status, if any.
    fn status(&self) -> Option<&Self::Status>;
    /// The status, to replace.
    fn status_mut(&mut self) -> &mut Option<Self::Status>;
}

/// The status types of the kinds, which share [`ResourceStatus`].
pub trait HasResource {
    /// The shared part of the status.
    fn resource(&self) -> &ResourceStatus;
    /// The shared part of the status, mutably.
    fn resource_mut(&mut self) -> &mut ResourceStatus;
}

/// What every kind has in common: its status (with the shared [`ResourceStatus`]), its deletion
/// policy, and whether it references other objects.
pub trait Common: HasStatus {
    /// Whether it references other objects (its status then has ReferencesResolved).
    const REFERENCES: bool;
    /// `spec.deletionPolicy`.
    fn deletion_policy(&self) -> DeletionPolicy;
    /// `spec.tags`.
    fn spec_tags(&self) -> &Tags;
    /// `spec.publish`.
    fn publish(&self) -> Option<&personalize_api::Publish>;
}

/// HasStatus and HasResource of a kind whose status has the shared `resource` block.
macro_rules! statuses {
    ($k:ty => $s:ty) => {
        impl $crate::reconcile::HasStatus for $k {
            type Status = $s;
            fn status(&self) -> Option<&$s> {
                self.status.as_ref()
            }
            fn status_mut(&mut self) -> &mut Option<$s> {
                &mut self.status
            }
        }
        impl $crate::reconcile::HasResource for $s {
            fn resource(&self) -> &personalize_api::ResourceStatus {
                &self.resource
            }
            fn resource_mut(&mut self) -> &mut personalize_api::ResourceStatus {
                &mut self.resource
            }
        }
    };
}
pub(crate) use statuses;

macro_rules! kinds {
    ($($k:ty => $s:ty, references: $refs:literal;)*) => {$(
        statuses!($k => $s);
        impl Common for $k {
            const REFERENCES: bool = $refs;
            fn deletion_policy(&self) -> DeletionPolicy { self.spec.deletion_policy }
            fn spec_tags(&self) -> &Tags { &self.spec.tags }
            fn publish(&self) -> Option<&personalize_api::Publish> { self.spec.publish.as_ref() }
        }
    )*};
}
kinds!(
    personalize_api::DatasetGroup => personalize_api::DatasetGroupStatus, references: false;
    personalize_api::Solution => personalize_api::SolutionStatus, references: true;
    personalize_api::Campaign => personalize_api::CampaignStatus, references: true;
    personalize_api::EventTracker => personalize_api::EventTrackerStatus, references: true;
    personalize_api::Filter => personalize_api::FilterStatus, references: true;
    personalize_api::Recommender => personalize_api::RecommenderStatus, references: true;
    personalize_api::MetricAttribution => personalize_api::MetricAttributionStatus, references: true;
);

/// What a kind's references resolve to, and how. A kind in a dataset group
/// ([`dataset_group::InGroup`]) resolves to its group's ARN without code of its own.
pub trait Resolve {
    /// What its references resolve to (e.g. the dataset group's ARN).
    type Refs: Send + Sync;

    /// Resolves its references: `Err(outcome)` while one is missing or not ready.
    fn resolve(
        &self,
        env: &Env<'_>,
    ) -> impl Future<Output = Result<Result<Self::Refs, Outcome>, Error>> + Send;
}

/// A custom resource kind the operator manages: what is specific to it. Everything else is
/// [`reconcile`].
pub trait Managed:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Common<Status: HasResource + Serialize + PartialEq + Clone + Default + Send + Sync>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + Resolve
    + 'static
{
    /// Brings its Personalize resources, in order, in line with the spec, recording what it
    /// changes in `env`; decides the outcome.
    fn sync(
        &self,
        env: &Env<'_>,
        refs: Self::Refs,
        status: &mut Self::Status,
    ) -> impl Future<Output = Result<Outcome, Error>> + Send;

    /// One step of deleting its Personalize resources, in Personalize's order.
    fn cleanup(&self, env: &Env<'_>) -> impl Future<Output = Result<Deletion, Error>> + Send;

    /// What `spec.publish` writes for apps. Default: the ARN, as `<kind>Arn`.
    fn published(&self, status: &Self::Status) -> BTreeMap<String, String> {
        let arn = status.resource().arn.clone();
        arn.map(|arn| (publish::arn_key(&Self::kind(&())), arn))
            .into_iter()
            .collect()
    }

    /// Kubernetes-side work after every sync that did not fail, given its outcome (e.g.
    /// publishing a Secret once Ready, removing an annotation that has been acted on). Default:
    /// none.
    fn after_sync(
        &self,
        _ctx: &Context,
        _status: &Self::Status,
        _outcome: &Outcome,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// Look again at a time of its own (e.g. a schedule's next occurrence): sooner than the
    /// resync when Ready, and at all when Terminal (a scheduled job whose last run failed still
    /// runs at its next occurrence). Default: never.
    fn requeue(
        &self,
        _status: &Self::Status,
        _now: Timestamp,
        _timing: Timing,
    ) -> Option<Duration> {
        None
    }
}

/// The controllers' entry point for any kind.
pub async fn reconcile<K: Managed>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let kind = K::kind(&());
    let metrics = crate::metrics::global();
    let _in_flight = metrics.reconcile(&kind);
    let api: Api<K> = Api::namespaced(ctx.kube.clone(), &namespace(obj.as_ref())?);
    let obj = ctx.with_written_status(obj);
    let uid = obj.meta().uid.clone().unwrap_or_default();
    let ctx = ctx.as_ref();
    let result = finalizer(&api, FINALIZER, obj, |event| async move {
        match event {
            // Personalize refused this spec as invalid: only a new spec can change that, so
            // nothing is sent to AWS again until the generation moves (no hot loop).
            finalizer::Event::Apply(obj) if paused(obj.as_ref()) => {
                let status = obj.status().cloned().unwrap_or_default();
                finish(obj.as_ref(), ctx, status, Outcome::Paused).await
            }
            finalizer::Event::Apply(obj) if rejected_for_this_generation(obj.as_ref()) => {
                Ok(Action::await_change())
            }
            finalizer::Event::Apply(obj) => apply(obj.as_ref(), ctx).await,
            finalizer::Event::Cleanup(obj) => {
                let done = cleanup(obj.as_ref(), ctx).await;
                if done.is_ok() {
                    lock(&ctx.written).remove(&uid);
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

async fn apply<K: Managed>(obj: &K, ctx: &Context) -> Result<Action, Error> {
    let env = Env::new(
        ctx.personalize.as_ref(),
        ctx.references()?,
        ctx.scrape.as_ref(),
    )
    .observing(observe_only(obj));
    let mut status = obj.status().cloned().unwrap_or_default();
    let synced = resolve_and_sync(obj, &env, &mut status).await;
    ctx.publish(obj, env.changes.take());
    let outcome = synced?;
    if matches!(outcome, Outcome::Ready { .. }) {
        publish::publish(obj, ctx, &status).await?;
    }
    obj.after_sync(ctx, &status, &outcome).await?;
    let sooner = match outcome {
        Outcome::Ready { .. } | Outcome::Terminal { .. } => {
            obj.requeue(&status, env.now, ctx.timing)
        }
        _ => None,
    };
    let terminal = matches!(outcome, Outcome::Terminal { .. });
    let action = finish(obj, ctx, status, outcome).await?;
    Ok(match sooner {
        Some(wait) if wait < ctx.timing.resync || terminal => Action::requeue(wait),
        _ => action,
    })
}

/// Resolves the references, syncs and keeps the tags; AWS errors become outcomes (other errors
/// are passed on).
async fn resolve_and_sync<K: Managed>(
    obj: &K,
    env: &Env<'_>,
    status: &mut K::Status,
) -> Result<Outcome, Error> {
    let synced = match obj.resolve(env).await {
        Ok(Ok(refs)) => match obj.sync(env, refs, status).await {
            Ok(outcome) => retag(obj, env, status).await.map(|()| outcome),
            Err(err) => Err(err),
        },
        Ok(Err(waiting)) => Ok(waiting),
        Err(err) => Err(err),
    };
    synced.or_else(outcome_of)
}

/// Keeps the tags of an object's ACTIVE resource as the spec says. They are compared (one
/// ListTagsForResource) only when the desired tags hash differently from those last applied,
/// so an idle resync costs nothing; a resource created in this pass has them already. Tags not
/// in the spec are removed, except AWS's own (`aws:`).
async fn retag<K: Managed>(obj: &K, env: &Env<'_>, status: &mut K::Status) -> Result<(), Error> {
    if observe_only(obj) {
        return Ok(()); // tags are not observed
    }
    let resource = status.resource_mut();
    let active = resource.status.as_deref() == Some(personalize_api::aws_status::ACTIVE);
    let Some(arn) = resource.arn.clone().filter(|_| active) else {
        return Ok(());
    };
    let desired = tags(obj, obj.spec_tags());
    let hash = tags_hash(&desired);
    if resource.tags_applied.as_deref() == Some(hash.as_str()) {
        return Ok(());
    }
    if !env.changes.contains(&format!("Create{}", K::kind(&()))) {
        let api = env.personalize(region_of(&arn));
        resource::sync_tags(api.as_ref(), &arn, &desired, &env.changes).await?;
    }
    resource.tags_applied = Some(hash);
    Ok(())
}

/// A short stable hash of a tag set.
fn tags_hash(tags: &Tags) -> String {
    let text: String = tags.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    crate::naming::short_hash(&text)
}

async fn cleanup<K: Managed>(obj: &K, ctx: &Context) -> Result<Action, Error> {
    if paused(obj) {
        let message = format!("deletion waits: {}", crate::outcome::PAUSED_MESSAGE);
        return Err(still_deleting(obj, ctx, "Paused", message).await);
    }
    if observe_only(obj) {
        ctx.event(
            obj,
            EventType::Normal,
            OBSERVE_ONLY,
            "Retain",
            "the object is observe-only: the Personalize resources stay".to_owned(),
        );
        return Ok(Action::await_change());
    }
    if obj.deletion_policy() == DeletionPolicy::Retain {
        ctx.event(
            obj,
            EventType::Normal,
            "Retain",
            "Retain",
            "deletionPolicy is Retain: the Personalize resources stay".to_owned(),
        );
        return Ok(Action::await_change());
    }
    let env = Env::new(
        ctx.personalize.as_ref(),
        ctx.references()?,
        ctx.scrape.as_ref(),
    );
    let step = obj.cleanup(&env).await;
    ctx.publish(obj, env.changes.take());
    match step {
        Ok(Deletion::Gone) => Ok(Action::await_change()),
        Ok(Deletion::Waiting { reason, message }) => {
            Err(still_deleting(obj, ctx, reason, message).await)
        }
        Err(Error::Aws(err)) if err.kind == ErrorKind::InUse => {
            Err(still_deleting(obj, ctx, "ResourceInUse", err.to_string()).await)
        }
        Err(err) => Err(err),
    }
}

/// The namespace of a namespaced object.
pub fn namespace<K: Resource>(obj: &K) -> Result<String, Error> {
    obj.meta().namespace.clone().ok_or(Error::NoNamespace)
}

/// The AWS name of an object: `spec.name`, else derived from namespace and name.
pub fn aws_name<K: Resource>(obj: &K, spec_name: Option<&str>) -> String {
    crate::naming::aws_name(
        spec_name,
        &obj.namespace().unwrap_or_default(),
        &obj.name_any(),
    )
}

/// Whether the object carries the paused annotation (`"true"`).
pub fn paused<K: Resource>(obj: &K) -> bool {
    obj.annotations()
        .get(PAUSED_ANNOTATION)
        .is_some_and(|v| v == "true")
}

/// Whether the object carries the observe-only annotation (`"true"`).
pub fn observe_only<K: Resource>(obj: &K) -> bool {
    obj.annotations()
        .get(OBSERVE_ANNOTATION)
        .is_some_and(|v| v == "true")
}

/// Who may take over an existing resource of the object's AWS name: resources tagged as its
/// own, or any with the adopt annotation; an observe-only object only looks.
pub fn ownership<K: Resource>(obj: &K) -> Ownership {
    if observe_only(obj) {
        return Ownership::Observe;
    }
    Ownership::Tagged {
        owner: owner(&obj.namespace().unwrap_or_default(), &obj.name_any()),
        adopt: obj
            .annotations()
            .get(ADOPT_ANNOTATION)
            .is_some_and(|v| v == "true"),
    }
}

/// The tags for a resource created for `obj`: the owner tag plus the spec's tags.
pub fn tags<K: Resource>(obj: &K, spec_tags: &Tags) -> Tags {
    let mut tags = spec_tags.clone();
    tags.insert(
        crate::naming::OWNER_TAG.to_owned(),
        owner(&obj.namespace().unwrap_or_default(), &obj.name_any()),
    );
    tags
}

/// The outcome of a synced resource (Ready with `ready`'s message when done) and its last
/// observation.
pub fn settle<D>(
    synced: Synced<D>,
    ready: impl FnOnce() -> String,
) -> (Outcome, Option<Observation<D>>) {
    match synced {
        Synced::Done(_, observed) => (Outcome::Ready { message: ready() }, Some(observed)),
        Synced::Pending(why, observed) => (pending(why), observed),
    }
}

/// The outcome of a resource that is not done.
pub fn pending(pending: Pending) -> Outcome {
    match pending {
        Pending::Progressing { reason, message } => Outcome::Progressing { reason, message },
        Pending::Terminal { reason, message } => Outcome::Terminal { reason, message },
    }
}

/// Whether Personalize rejected the current generation of the spec as invalid.
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
            ErrorKind::ReadOnly => Outcome::Progressing {
                reason: OBSERVE_ONLY,
                message: aws.message,
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
async fn finish<K: Managed>(
    obj: &K,
    ctx: &Context,
    mut status: K::Status,
    outcome: Outcome,
) -> Result<Action, Error> {
    let previous = obj
        .status()
        .map(|s| s.resource().conditions.clone())
        .unwrap_or_default();
    let resource = status.resource_mut();
    resource.conditions = conditions(
        &previous,
        &outcome,
        K::REFERENCES,
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
        );
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
async fn patch_status<K: Managed>(obj: &K, ctx: &Context, status: &K::Status) -> Result<(), Error> {
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
        lock(&ctx.written).insert(uid, value);
    }
    Ok(())
}

/// Marks an object as being deleted (writes a Ready=False condition saying what it waits for)
/// and returns the error that makes the finalizer keep it and look again soon.
async fn still_deleting<K: Managed>(
    obj: &K,
    ctx: &Context,
    reason: &'static str,
    message: String,
) -> Error {
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

/// A reference that is not usable yet, as an outcome.
pub fn waiting_for(reason: &'static str, message: String) -> Outcome {
    Outcome::WaitingForReference { reason, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::testing::{World, movielens, ready_group_and_solution};

    /// The object with the observe-only annotation and no status (a new cluster taking over).
    fn observing<K: Managed>(mut obj: K) -> K {
        obj.meta_mut()
            .annotations
            .get_or_insert_default()
            .insert(OBSERVE_ANNOTATION.to_owned(), "true".to_owned());
        *obj.status_mut() = None;
        obj
    }

    #[tokio::test]
    async fn observe_only_objects_find_what_exists_and_report_it_without_a_write() {
        let mut world = World::new();
        let (group, solution) = ready_group_and_solution(&mut world).await;
        let (_, _, mut campaign, mut tracker) = movielens();
        world.sync_until_ready(&mut campaign).await;
        world.sync_until_ready(&mut tracker).await;
        let writes = world.fake.writes();

        let mut group = observing(group);
        let mut solution = observing(solution);
        let mut campaign = observing(campaign);
        let mut tracker = observing(tracker);
        world.expect(&mut group, "Active", None).await;
        world.expect(&mut solution, "Active", None).await;
        world.expect(&mut campaign, "Active", None).await;
        world.expect(&mut tracker, "Active", None).await;
        let tracking_id = tracker.status.as_ref().and_then(|s| s.tracking_id.clone());
        assert!(tracking_id.is_some(), "the tracking id is reported");
        assert_eq!(world.fake.writes(), writes, "nothing was written");
    }

    #[tokio::test]
    async fn observe_only_says_what_it_would_do_and_does_nothing() {
        let mut world = World::new();
        ready_group_and_solution(&mut world).await;
        let (_, _, campaign, _) = movielens();
        let writes = world.fake.writes();

        // Nothing of its name: it would create one.
        let mut observed = observing(campaign.clone());
        let (outcome, changes) = world.sync(&mut observed).await;
        assert_eq!(outcome.reason(), OBSERVE_ONLY, "{outcome:?}");
        assert!(outcome.message().contains("CreateCampaign"), "{outcome:?}");
        assert!(changes.is_empty());
        assert_eq!(world.fake.writes(), writes);

        // It exists but differs from the spec: it would update it.
        let mut managed = campaign.clone();
        world.sync_until_ready(&mut managed).await;
        let writes = world.fake.writes();
        let mut observed = observing(campaign);
        observed.spec.min_provisioned_tps = 5;
        let (outcome, _) = world.sync(&mut observed).await;
        assert_eq!(outcome.reason(), OBSERVE_ONLY, "{outcome:?}");
        assert!(outcome.message().contains("UpdateCampaign"), "{outcome:?}");
        assert_eq!(
            observed
                .status
                .as_ref()
                .and_then(|s| s.resource.arn.clone()),
            managed.status.as_ref().and_then(|s| s.resource.arn.clone()),
            "the existing campaign is reported"
        );
        assert_eq!(world.fake.writes(), writes, "nothing was written");

        // Deleted outside: reported, not created again.
        world
            .fake
            .remove(&crate::reconcile::testing::arn_of(&managed));
        let (outcome, _) = world.sync(&mut observed).await;
        assert!(outcome.message().contains("CreateCampaign"), "{outcome:?}");
        assert_eq!(world.fake.writes(), writes);
    }

    #[test]
    fn an_observe_only_difference_is_looked_at_again_at_the_resync_not_polled() {
        let timing = Timing {
            poll: Duration::from_secs(10),
            resync: Duration::from_secs(600),
        };
        let differs = Outcome::Progressing {
            reason: OBSERVE_ONLY,
            message: String::new(),
        };
        assert_eq!(differs.requeue_after(timing), Some(timing.resync));
        let creating = Outcome::Progressing {
            reason: "Creating",
            message: String::new(),
        };
        assert_eq!(creating.requeue_after(timing), Some(timing.poll));
    }
}
