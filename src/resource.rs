//! The one algorithm every Personalize resource is reconciled by.
//!
//! A resource is its create request (which [`Request`] ties to a kind, a Describe and a place)
//! plus a pure [`AwsResource::plan`] and, if it can change in place, an update. [`sync`] does the rest the same way for all: create or adopt
//! (deterministic name, owner tag or adopt annotation), recreate when deleted outside the
//! operator, act on the plan. [`delete`] is one idempotent step of deleting any resource.
//!
//! Knows Personalize (through the [`Personalize`] seam) but not Kubernetes: what was changed is
//! recorded in a [`Changes`] list that the caller publishes as Events.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Mutex;

use crate::naming::OWNER_TAG;
use crate::personalize::{
    AwsError, ErrorKind, Kind, Observation, Personalize, Request, Status, Tags, found, sibling_arn,
};

/// The next step for a resource that exists, decided from (desired, observed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// It matches the desired state and is ACTIVE.
    Done,
    /// Change it in place (Update<Kind>, or another call [`AwsResource::update`] picks).
    Update,
    /// Personalize is working on it (creating, updating, deleting): look again soon.
    Wait {
        /// CamelCase reason.
        reason: &'static str,
        /// What is happening, for a person.
        message: String,
    },
    /// It failed and only a spec change can help.
    Fail {
        /// CamelCase reason.
        reason: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl Plan {
    /// Wait with a reason.
    pub fn wait(reason: &'static str, message: impl Into<String>) -> Self {
        Self::Wait {
            reason,
            message: message.into(),
        }
    }

    /// `Done`, `Update`, or the reason of a wait or failure.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Done => "Done",
            Self::Update => "Update",
            Self::Wait { reason, .. } | Self::Fail { reason, .. } => reason,
        }
    }

    /// Fail with a reason.
    pub fn fail(reason: &'static str, message: impl Into<String>) -> Self {
        Self::Fail {
            reason,
            message: message.into(),
        }
    }
}

/// The plan every resource starts from: Done when ACTIVE, Wait while creating or deleting, Fail
/// when creation failed. Resources with updatable fields check those first.
pub fn lifecycle_plan<T>(noun: &str, observed: &Observation<T>) -> Plan {
    match &observed.status {
        Status::Active => Plan::Done,
        Status::CreateFailed => Plan::fail(
            "CreateFailed",
            format!(
                "Personalize could not create the {noun}: {}",
                observed
                    .failure_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            ),
        ),
        s if s.is_deleting() => Plan::wait(
            "DeletedOutside",
            format!(
                "the {noun} is being deleted outside the operator ({s}); it will be created again"
            ),
        ),
        s => Plan::wait("Creating", format!("{noun} is {s}")),
    }
}

/// A Personalize resource as the operator manages it: its create request is its desired state
/// (what [`Request`] ties to the resource's kind, Describe and place), and it decides with a
/// pure [`AwsResource::plan`].
pub trait AwsResource: Request {
    /// What to do, given what Personalize reports. Pure.
    fn plan(&self, observed: &Observation<Self::Details>) -> Plan;

    /// Changes it in place, as `plan` asked, given what was observed; returns the operation it
    /// called (e.g. `UpdateCampaign`). Default: nothing can change in place (plan never asks).
    fn update(&self, _at: At<'_, Self::Details>) -> impl Future<Output = Updated> + Send {
        async { Ok("None") }
    }

    /// Where an existing resource of this name is (after ResourceAlreadyExists), if anywhere.
    /// Default: the ARN its kind and name give next to its anchor.
    fn existing(
        &self,
        _api: &dyn Personalize,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send {
        let arn = self
            .anchor()
            .map(|anchor| sibling_arn(anchor, &Self::KIND.path(self.name())));
        async { Ok(arn) }
    }

    /// What a resource just created is known to be without asking: `Some` for resources that
    /// have no lifecycle (schemas are usable at once). Default: ask.
    fn created(&self) -> Option<Observation<Self::Details>> {
        None
    }
}

/// Where an update acts: Personalize, the resource's ARN and what was just observed of it.
pub struct At<'a, D> {
    /// Personalize.
    pub api: &'a dyn Personalize,
    /// The resource.
    pub arn: &'a str,
    /// Its observation, which the plan decided from.
    pub observed: &'a Observation<D>,
}

/// The operation an update called.
pub type Updated = Result<&'static str, AwsError>;

/// Who may take over an existing resource of the desired name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// A resource whose owner tag has this value (or any, with the adopt annotation).
    Tagged {
        /// The owner tag value of the custom resource.
        owner: String,
        /// The adopt annotation is set: take it over whatever its tags say.
        adopt: bool,
    },
    /// Anything of that name: a child named after a parent that is already ours.
    Parent,
    /// Observe only: find the resource of that name and report it; never create or take over.
    Observe,
}

/// A mutation made in Personalize, for a Kubernetes Event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The operation, e.g. `CreateCampaign`.
    pub action: String,
    /// What was done, for a person.
    pub note: String,
    /// Worth a Warning Event (e.g. a rollout aborted), not a Normal one.
    pub warning: bool,
}

/// The mutations of one reconcile, in order; recorded through a shared reference from
/// anywhere in the reconcile.
#[derive(Debug, Default)]
pub struct Changes(Mutex<Vec<Change>>);

impl Changes {
    /// Records a mutation.
    pub fn record(&self, action: impl Into<String>, note: impl Into<String>) {
        self.push(action.into(), note.into(), false);
    }

    /// Records a decision worth a Warning Event.
    pub fn warn(&self, action: impl Into<String>, note: impl Into<String>) {
        self.push(action.into(), note.into(), true);
    }

    fn push(&self, action: String, note: String, warning: bool) {
        let change = Change {
            action,
            note,
            warning,
        };
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(change);
    }

    /// Whether a mutation of this action was recorded.
    pub fn contains(&self, action: &str) -> bool {
        let changes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        changes.iter().any(|c| c.action == action)
    }

    /// The mutations recorded so far, leaving none.
    pub fn take(&self) -> Vec<Change> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Where a resource stands after [`sync`].
#[derive(Debug)]
pub enum Synced<D> {
    /// ACTIVE and as desired: its ARN and what was observed.
    Done(String, Observation<D>),
    /// Not yet (or never, for Terminal): the outcome, and the last observation if any.
    Pending(Pending, Option<Observation<D>>),
}

/// Why a resource is not done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Personalize is working: look again soon.
    Progressing {
        /// CamelCase reason.
        reason: &'static str,
        /// What is happening.
        message: String,
    },
    /// Only a spec change can help.
    Terminal {
        /// CamelCase reason.
        reason: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// Brings one resource in line with `desired`. `arn` is where the caller keeps its ARN (updated
/// on create, adoption and disappearance); `known` is an observation the caller already has
/// (from a List, or a run that never changes again), which saves the Describe.
pub async fn sync<R: AwsResource>(
    api: &dyn Personalize,
    desired: &R,
    ownership: &Ownership,
    arn: &mut Option<String>,
    known: Option<Observation<R::Details>>,
    changes: &Changes,
) -> Result<Synced<R::Details>, AwsError> {
    let noun = R::KIND.noun();
    let mut known = known.filter(|_| arn.is_some());
    // At most twice: a resource found gone is created again at once.
    for _ in 0..2 {
        let current = match arn.clone() {
            Some(current) => current,
            None => match create_or_adopt(api, desired, ownership, changes).await? {
                Ok(created) => {
                    *arn = Some(created.clone());
                    known = desired.created();
                    created
                }
                Err(taken) => return Ok(Synced::Pending(taken, None)),
            },
        };
        let observed = match known.take() {
            Some(observed) => observed,
            None => match found(R::describe(api, &current).await)? {
                Some(observed) => observed,
                None if *ownership == Ownership::Observe => {
                    *arn = None;
                    return Ok(Synced::Pending(not_there(desired), None));
                }
                None => {
                    *arn = None;
                    continue;
                }
            },
        };
        return Ok(match desired.plan(&observed) {
            Plan::Done => Synced::Done(current, observed),
            Plan::Wait { reason, message } => {
                Synced::Pending(Pending::Progressing { reason, message }, Some(observed))
            }
            Plan::Fail { reason, message } => {
                Synced::Pending(Pending::Terminal { reason, message }, Some(observed))
            }
            Plan::Update => {
                let at = At {
                    api,
                    arn: &current,
                    observed: &observed,
                };
                let operation = desired.update(at).await?;
                changes.record(operation, format!("{operation} on {noun} {current}"));
                Synced::Pending(
                    Pending::Progressing {
                        reason: "Updating",
                        message: format!("{operation}: the {noun} is changing"),
                    },
                    Some(observed),
                )
            }
        });
    }
    Ok(Synced::Pending(
        Pending::Progressing {
            reason: "Recreating",
            message: format!("the {noun} was deleted outside the operator; creating it again"),
        },
        None,
    ))
}

/// Creates the resource, or finds the existing one of its name and takes it over when
/// `ownership` allows. `Err(Terminal)` when the name belongs to someone else.
async fn create_or_adopt<R: AwsResource>(
    api: &dyn Personalize,
    desired: &R,
    ownership: &Ownership,
    changes: &Changes,
) -> Result<Result<String, Pending>, AwsError> {
    let noun = R::KIND.noun();
    if *ownership == Ownership::Observe {
        return Ok(match desired.existing(api).await? {
            Some(arn) => Ok(arn),
            None => Err(not_there(desired)),
        });
    }
    let err = match desired.create(api).await {
        Ok(arn) => {
            let action = format!("Create{}", operation_noun(R::KIND));
            changes.record(action, format!("created {noun} {arn}"));
            return Ok(Ok(arn));
        }
        Err(err) if err.kind == ErrorKind::AlreadyExists => err,
        Err(err) => return Err(err),
    };
    let Some(arn) = desired.existing(api).await? else {
        return Err(err);
    };
    let ours = match ownership {
        Ownership::Parent | Ownership::Observe => true,
        // Personalize also says AlreadyExists for a conflict under another name (one event
        // tracker per dataset group): then nothing is at the derived ARN to take over.
        Ownership::Tagged { owner, adopt } => match found(api.list_tags(&arn).await)? {
            None => false,
            Some(tags) => *adopt || tags.get(OWNER_TAG) == Some(owner),
        },
    };
    if !ours {
        return Ok(Err(Pending::Terminal {
            reason: "NameTaken",
            message: format!(
                "a Personalize {noun} named {:?} already exists and is not owned by this object \
                 ({}); set spec.name to another name, or annotate the object with {}=\"true\" to \
                 adopt it",
                desired.name(),
                err.message,
                crate::naming::ADOPT_ANNOTATION
            ),
        }));
    }
    if matches!(ownership, Ownership::Tagged { .. }) {
        let action = format!("Adopt{}", operation_noun(R::KIND));
        changes.record(action, format!("adopted existing {noun} {arn}"));
    }
    Ok(Ok(arn))
}

/// Why an observe-only resource is not done: there is none of its name, and the operator does
/// not create it.
fn not_there<R: AwsResource>(desired: &R) -> Pending {
    let operation = operation_noun(R::KIND);
    Pending::Progressing {
        reason: OBSERVE_ONLY,
        message: format!(
            "the object is observe-only and Personalize has no {} named {:?}; the operator \
             would call Create{operation} but does not change Personalize",
            R::KIND.noun(),
            desired.name()
        ),
    }
}

/// The reason an observe-only object reports where it would have changed Personalize.
pub const OBSERVE_ONLY: &str = "ObserveOnly";

/// The noun of a kind as it appears in operation names, e.g. `EventTracker`.
pub fn operation_noun(kind: Kind) -> &'static str {
    match kind {
        Kind::DatasetGroup => "DatasetGroup",
        Kind::Schema => "Schema",
        Kind::Dataset => "Dataset",
        Kind::DatasetImportJob => "DatasetImportJob",
        Kind::Solution => "Solution",
        Kind::Campaign => "Campaign",
        Kind::EventTracker => "EventTracker",
        Kind::Filter => "Filter",
        Kind::Recommender => "Recommender",
        Kind::MetricAttribution => "MetricAttribution",
        Kind::BatchInferenceJob => "BatchInferenceJob",
        Kind::BatchSegmentJob => "BatchSegmentJob",
        Kind::DatasetExportJob => "DatasetExportJob",
        Kind::DataDeletionJob => "DataDeletionJob",
    }
}

/// What to change so that a resource tagged `current` is tagged `desired`: the tags to set
/// and the keys to remove. AWS's own tags (`aws:` keys) are left alone. Pure.
pub fn tag_changes(desired: &Tags, current: &Tags) -> (Tags, Vec<String>) {
    let set: Tags = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = current
        .keys()
        .filter(|k| !desired.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    (set, remove)
}

/// Brings the tags of the resource at `arn` in line with `desired` (TagResource and
/// UntagResource for the differences only).
pub async fn sync_tags(
    api: &dyn Personalize,
    arn: &str,
    desired: &Tags,
    changes: &Changes,
) -> Result<(), AwsError> {
    let current = api.list_tags(arn).await?;
    let (set, remove) = tag_changes(desired, &current);
    if !set.is_empty() {
        api.tag(arn, &set).await?;
        let keys: Vec<&String> = set.keys().collect();
        changes.record("TagResource", format!("tagged {arn} with {keys:?}"));
    }
    if !remove.is_empty() {
        api.untag(arn, &remove).await?;
        changes.record(
            "UntagResource",
            format!("removed tags {remove:?} from {arn}"),
        );
    }
    Ok(())
}

/// Where deleting something stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Personalize no longer knows it.
    Gone,
    /// Not yet: why (deletion requested, under way, blocked by dependents or work in flight).
    Waiting {
        /// CamelCase reason.
        reason: &'static str,
        /// What it waits for.
        message: String,
    },
}

impl Deletion {
    /// Waiting, with a reason.
    pub fn waiting(reason: &'static str, message: impl Into<String>) -> Self {
        Self::Waiting {
            reason,
            message: message.into(),
        }
    }
}

/// One idempotent step of deleting a resource: gone when Personalize does not know it; otherwise
/// Delete is called unless it is already being deleted or still being created (which
/// Personalize refuses). ResourceInUse means wait.
pub async fn delete<R: AwsResource>(
    api: &dyn Personalize,
    arn: &str,
    changes: &Changes,
) -> Result<Deletion, AwsError> {
    let noun = R::KIND.noun();
    let Some(observed) = found(R::describe(api, arn).await)? else {
        return Ok(Deletion::Gone);
    };
    if observed.status.is_deleting() || observed.status.is_creating() {
        return Ok(Deletion::waiting(
            "Deleting",
            format!("{noun} {arn} is {}", observed.status),
        ));
    }
    delete_now(api, R::KIND, arn, changes).await
}

/// Calls Delete<Kind> on something known to exist: gone on NotFound, waiting on ResourceInUse.
pub async fn delete_now(
    api: &dyn Personalize,
    kind: Kind,
    arn: &str,
    changes: &Changes,
) -> Result<Deletion, AwsError> {
    match api.delete(kind, arn).await {
        Ok(()) => {
            let action = format!("Delete{}", operation_noun(kind));
            changes.record(action, format!("deleting {} {arn}", kind.noun()));
            Ok(Deletion::waiting(
                "Deleting",
                format!("deletion of {} {arn} requested", kind.noun()),
            ))
        }
        Err(err) if err.is_not_found() => Ok(Deletion::Gone),
        Err(err) if err.kind == ErrorKind::InUse => {
            Ok(Deletion::waiting("ResourceInUse", err.to_string()))
        }
        Err(err) => Err(err),
    }
}

/// The first of several deletion steps that is not done, else Gone.
pub fn first_waiting(steps: impl IntoIterator<Item = Deletion>) -> Deletion {
    steps
        .into_iter()
        .find(|d| *d != Deletion::Gone)
        .unwrap_or(Deletion::Gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_plan_table() {
        let at = |status: Status| Observation {
            status,
            failure_reason: Some("bad data".into()),
            details: (),
        };
        let cases = [
            (Status::Active, "Done"),
            (Status::CreatePending, "Creating"),
            (Status::CreateInProgress, "Creating"),
            (Status::CreateFailed, "CreateFailed"),
            (Status::DeletePending, "DeletedOutside"),
            (Status::DeleteInProgress, "DeletedOutside"),
            (Status::Other("SOMETHING".into()), "Creating"),
        ];
        for (status, want) in cases {
            let got = lifecycle_plan("thing", &at(status.clone()));
            assert_eq!(got.label(), want, "{status}");
        }
        let failed = lifecycle_plan("thing", &at(Status::CreateFailed));
        assert!(
            matches!(&failed, Plan::Fail { message, .. } if message.contains("bad data")),
            "the failure reason is kept: {failed:?}"
        );
    }

    #[test]
    fn tag_changes_set_what_differs_and_remove_what_is_not_desired() {
        let tags = |pairs: &[(&str, &str)]| -> Tags {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let desired = tags(&[("team", "recs"), ("env", "prod")]);
        let current = tags(&[
            ("team", "recs"),
            ("env", "dev"),
            ("old", "x"),
            ("aws:cloudformation:stack-name", "s"),
        ]);
        let (set, remove) = tag_changes(&desired, &current);
        assert_eq!(set, tags(&[("env", "prod")]));
        assert_eq!(remove, ["old"], "aws: tags are AWS's own");
        let (set, remove) = tag_changes(&desired, &desired);
        assert!(set.is_empty() && remove.is_empty());
    }

    #[test]
    fn the_first_deletion_step_not_done_decides() {
        let wait = Deletion::waiting("Deleting", "x");
        assert_eq!(first_waiting([Deletion::Gone, wait.clone()]), wait);
        assert_eq!(
            first_waiting([Deletion::Gone, Deletion::Gone]),
            Deletion::Gone
        );
        assert_eq!(first_waiting([]), Deletion::Gone);
    }
}
