//! `Filter`: its dataset group (a reference or an ARN), then the filter of the current
//! expression.
//!
//! Personalize cannot change a filter, so each expression gets its own filter, named
//! `<prefix>-<hash of the expression>`, and a new expression is rolled out as a replacement:
//! the new filter is created while the old one stays published in `status.arn`; once the new
//! one is ACTIVE it is published, and the old one is retired: deleted `retireAfterSeconds`
//! later, so that clients which read the old ARN just before never use a deleted filter.
//! [`arrange`] decides, purely, which slot the desired filter syncs into and what retires.

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use personalize_api::{Filter, FilterStatus, RetiredFilter, aws_status};

use super::{Decided, Env, Error, Managed, aws_name, own_arn, pending, settle, tags};
use crate::naming::{child_name, short_hash};
use crate::outcome::{Outcome, Timing};
use crate::personalize::{FilterDetails, NewFilter, Observation, Status, region_of, short_id};
use crate::resource::{AwsResource, Deletion, Plan, Synced, first_waiting, lifecycle_plan};

/// A filter's name says its expression, so an ACTIVE filter of that name with another
/// expression was not made by this operator for this spec.
impl AwsResource for NewFilter {
    fn plan(&self, observed: &Observation<FilterDetails>) -> Plan {
        match &observed.details.filter_expression {
            Some(have) if observed.status == Status::Active && *have != self.filter_expression => {
                Plan::fail(
                    "ExpressionMismatch",
                    format!(
                        "the filter {} has the expression {have:?}, not the one in the spec; \
                         set spec.name to another prefix",
                        self.name
                    ),
                )
            }
            _ => lifecycle_plan("filter", observed),
        }
    }
}

/// The AWS name of the filter for the spec's expression.
pub fn filter_name(obj: &Filter) -> String {
    let prefix = aws_name(obj, obj.spec.name.as_deref());
    child_name(&prefix, &short_hash(&obj.spec.filter_expression))
}

/// Where the desired filter is synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Into `status.arn`: nothing usable is published, or it is the desired filter.
    Published,
    /// Into `status.replacementArn`: another filter is published and ACTIVE, and stays so
    /// until the desired one is.
    Replacement,
}

/// Decides where the filter named `desired` is synced, retiring at once what can no longer
/// be published: a replacement for an older expression, and a published filter of another
/// name that is not ACTIVE (nobody can be using it). Pure.
pub fn arrange(status: &mut FilterStatus, desired: &str, now: Timestamp) -> Slot {
    if let Some(replacement) = status
        .replacement_arn
        .take_if(|arn| short_id(arn) != desired)
    {
        retire(status, replacement, now);
    }
    let Some(published) = status.resource.arn.clone() else {
        return Slot::Published;
    };
    if short_id(&published) == desired {
        return Slot::Published;
    }
    if status.resource.status.as_deref() == Some(aws_status::ACTIVE) {
        return Slot::Replacement;
    }
    status.resource.arn = None;
    status.resource.status = None;
    status.filter_expression = None;
    retire(status, published, now);
    Slot::Published
}

/// Publishes the replacement (now ACTIVE) and retires the filter it replaces, to be deleted
/// at `delete_after`. Pure.
pub fn publish(status: &mut FilterStatus, expression: &str, delete_after: Timestamp) {
    let Some(replacement) = status.replacement_arn.take() else {
        return;
    };
    if let Some(old) = status.resource.arn.replace(replacement) {
        retire(status, old, delete_after);
    }
    status.resource.status = Some(aws_status::ACTIVE.to_owned());
    status.filter_expression = Some(expression.to_owned());
}

fn retire(status: &mut FilterStatus, arn: String, delete_after: Timestamp) {
    if status.retired.iter().all(|r| r.arn != arn) {
        status.retired.push(RetiredFilter {
            arn,
            delete_after: delete_after.to_string(),
        });
    }
}

/// When a retired filter may be deleted (unreadable: at once).
fn due(retired: &RetiredFilter) -> Timestamp {
    retired
        .delete_after
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Managed for Filter {
    async fn sync(&self, env: &Env<'_>, group: String, status: &mut FilterStatus) -> Decided {
        status.dataset_group_arn = Some(group.clone());
        let region = region_of(&group).map(str::to_owned);
        let expression = &self.spec.filter_expression;
        let desired = NewFilter {
            name: filter_name(self),
            dataset_group_arn: group,
            filter_expression: expression.clone(),
            tags: tags(self, &self.spec.tags),
        };
        let outcome = match arrange(status, &desired.name, env.now) {
            Slot::Published => {
                let arn = &mut status.resource.arn;
                let synced = env
                    .sync_owned(self, region.as_deref(), &desired, arn, None)
                    .await?;
                let (outcome, observed) =
                    settle(synced, || format!("filter {} is ACTIVE", desired.name));
                let observed = observed.as_ref();
                status.resource.status = observed.map(|o| o.status.to_string());
                status.resource.failure_reason = observed.and_then(|o| o.failure_reason.clone());
                status.filter_expression =
                    observed.and_then(|o| o.details.filter_expression.clone());
                outcome
            }
            Slot::Replacement => {
                let slot = &mut status.replacement_arn;
                match env
                    .sync_owned(self, region.as_deref(), &desired, slot, None)
                    .await?
                {
                    Synced::Done(..) => {
                        let grace =
                            SignedDuration::from_secs(self.spec.retire_after_seconds.into());
                        publish(status, expression, env.now + grace);
                        let note =
                            format!("published filter {} for the new expression", desired.name);
                        env.changes.record("PublishFilter", note);
                        Outcome::Ready {
                            message: format!("filter {} is ACTIVE and published", desired.name),
                        }
                    }
                    Synced::Pending(why, _) => replacing(pending(why), status),
                }
            }
        };
        retire_due(env, status).await?;
        Ok(outcome)
    }

    async fn cleanup(&self, env: &Env<'_>) -> Result<Deletion, Error> {
        let mut arns: Vec<String> = own_arn(self).into_iter().collect();
        if let Some(status) = &self.status {
            arns.extend(status.replacement_arn.clone());
            arns.extend(status.retired.iter().map(|r| r.arn.clone()));
        }
        let mut steps = Vec::new();
        for arn in arns {
            steps.push(env.delete_owned::<NewFilter>(Some(arn)).await?);
        }
        Ok(first_waiting(steps))
    }

    /// While retired filters wait for deletion: when the next one is due, or the poll interval
    /// while one is being deleted.
    fn requeue(&self, status: &FilterStatus, now: Timestamp, timing: Timing) -> Option<Duration> {
        let next = status.retired.iter().map(due).min()?;
        let wait = Duration::try_from(next.duration_since(now)).unwrap_or_default();
        Some(if wait.is_zero() { timing.poll } else { wait })
    }
}

/// The outcome while a replacement is not ACTIVE: the published filter still serves.
fn replacing(outcome: Outcome, status: &FilterStatus) -> Outcome {
    let published = status.resource.arn.as_deref().unwrap_or_default();
    match outcome {
        Outcome::Progressing { message, .. } => Outcome::Progressing {
            reason: "Replacing",
            message: format!("{message}; {published} stays published until then"),
        },
        other => other,
    }
}

/// Deletes the retired filters whose time has come; forgets those that are gone. A failure
/// stops the deletions but keeps every filter not known to be gone.
async fn retire_due(env: &Env<'_>, status: &mut FilterStatus) -> Result<(), Error> {
    let mut kept = Vec::new();
    let mut failure = None;
    for retired in std::mem::take(&mut status.retired) {
        if failure.is_none() && due(&retired) <= env.now {
            match env
                .delete_owned::<NewFilter>(Some(retired.arn.clone()))
                .await
            {
                Ok(Deletion::Gone) => continue,
                Ok(Deletion::Waiting { .. }) => {}
                Err(err) => failure = Some(err),
            }
        }
        kept.push(retired);
    }
    status.retired = kept;
    failure.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::OWNER_TAG;
    use crate::personalize::Kind;
    use crate::personalize::fake::Fake;
    use crate::reconcile::testing::{World, arn_of, example, ready_group_and_solution};

    const OTHER: &str = "EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"watch\")";
    const THIRD: &str = "INCLUDE ItemID WHERE Items.YEAR > 1990";

    fn genre() -> Filter {
        example("20-filter.yaml")
    }

    async fn world(steps: u32) -> World {
        let mut world = World::with(Fake::with_steps(steps));
        ready_group_and_solution(&mut world).await;
        world
    }

    /// A world whose resources settle after `steps` looks, with the genre filter Ready.
    async fn with_ready_filter(steps: u32) -> (World, Filter) {
        let world = world(steps).await;
        let mut filter = genre();
        world.sync_until_ready(&mut filter).await;
        (world, filter)
    }

    fn seconds(s: i64) -> SignedDuration {
        SignedDuration::from_secs(s)
    }

    fn status(filter: &Filter) -> FilterStatus {
        filter.status.clone().expect("status")
    }

    fn observed(status: Status, expression: &str) -> Observation<FilterDetails> {
        Observation::new(
            status,
            FilterDetails {
                filter_expression: Some(expression.into()),
            },
        )
    }

    #[test]
    fn plan_table() {
        let desired = NewFilter {
            name: "f".into(),
            filter_expression: OTHER.into(),
            ..Default::default()
        };
        let cases = [
            (observed(Status::Active, OTHER), "Done"),
            (observed(Status::Active, THIRD), "ExpressionMismatch"),
            (observed(Status::CreateInProgress, THIRD), "Creating"),
            (observed(Status::CreateFailed, OTHER), "CreateFailed"),
            (observed(Status::DeletePending, OTHER), "DeletedOutside"),
        ];
        for (observation, want) in cases {
            assert_eq!(desired.plan(&observation).label(), want, "{observation:?}");
        }
    }

    #[test]
    fn the_name_follows_the_expression_and_the_prefix() {
        let mut filter = genre();
        let first = filter_name(&filter);
        assert!(first.starts_with("team-genre-"), "{first}");
        assert_eq!(first, filter_name(&filter), "deterministic");
        filter.spec.filter_expression = OTHER.into();
        assert_ne!(filter_name(&filter), first);
        filter.spec.name = Some("given".into());
        assert!(filter_name(&filter).starts_with("given-"));
        assert!(filter_name(&filter).len() <= 63);
    }

    #[test]
    fn arrange_table() {
        let now = Timestamp::now();
        let arn = |name: &str| format!("arn:aws:personalize:us-east-1:0:filter/{name}");
        let with = |published: Option<(&str, &str)>, replacement: Option<&str>| FilterStatus {
            resource: personalize_api::ResourceStatus {
                arn: published.map(|(n, _)| arn(n)),
                status: published.map(|(_, s)| s.to_owned()),
                ..Default::default()
            },
            replacement_arn: replacement.map(arn),
            ..Default::default()
        };
        // (status, desired) -> (slot, published after, retired now)
        let cases = [
            (with(None, None), "b", Slot::Published, None, vec![]),
            (
                with(Some(("b", "ACTIVE")), None),
                "b",
                Slot::Published,
                Some("b"),
                vec![],
            ),
            (
                with(Some(("a", "ACTIVE")), None),
                "b",
                Slot::Replacement,
                Some("a"),
                vec![],
            ),
            (
                with(Some(("a", "ACTIVE")), Some("b")),
                "b",
                Slot::Replacement,
                Some("a"),
                vec![],
            ),
            // A replacement for an older expression goes at once.
            (
                with(Some(("a", "ACTIVE")), Some("b")),
                "c",
                Slot::Replacement,
                Some("a"),
                vec!["b"],
            ),
            // Back to the published expression: the replacement goes.
            (
                with(Some(("a", "ACTIVE")), Some("b")),
                "a",
                Slot::Published,
                Some("a"),
                vec!["b"],
            ),
            // A published filter that is not ACTIVE serves nobody: replaced in place.
            (
                with(Some(("a", "CREATE FAILED")), None),
                "b",
                Slot::Published,
                None,
                vec!["a"],
            ),
            (
                with(Some(("a", "CREATE PENDING")), None),
                "b",
                Slot::Published,
                None,
                vec!["a"],
            ),
        ];
        for (mut status, desired, slot, published, retired) in cases {
            let before = status.clone();
            assert_eq!(arrange(&mut status, desired, now), slot, "{before:?}");
            assert_eq!(status.resource.arn, published.map(arn), "{before:?}");
            let gone: Vec<String> = status.retired.iter().map(|r| r.arn.clone()).collect();
            let want: Vec<String> = retired.into_iter().map(arn).collect();
            assert_eq!(gone, want, "{before:?}");
            assert!(status.retired.iter().all(|r| due(r) <= now), "at once");
        }
    }

    #[test]
    fn publishing_retires_the_old_filter_after_the_grace() {
        let later = Timestamp::now() + seconds(60);
        let mut status = FilterStatus {
            replacement_arn: Some("arn:new".into()),
            ..Default::default()
        };
        status.resource.arn = Some("arn:old".into());
        publish(&mut status, OTHER, later);
        assert_eq!(status.resource.arn.as_deref(), Some("arn:new"));
        assert_eq!(status.replacement_arn, None);
        assert_eq!(status.filter_expression.as_deref(), Some(OTHER));
        assert_eq!(status.retired.len(), 1);
        assert_eq!(status.retired[0].arn, "arn:old");
        assert_eq!(due(&status.retired[0]), later);
    }

    #[tokio::test]
    async fn creates_the_filter_once_the_group_is_ready() {
        let mut world = World::new();
        let mut filter = genre();
        world
            .created_once_the_group_is_ready(&mut filter, "CreateFilter")
            .await;
        let arn = arn_of(&filter);
        assert!(arn.ends_with(&filter_name(&filter)), "{arn}");
        let status = status(&filter);
        assert_eq!(
            status.filter_expression,
            Some(filter.spec.filter_expression.clone())
        );
        assert!(status.dataset_group_arn.is_some());
        assert_eq!(
            world.fake.tags(&arn).get(OWNER_TAG).map(String::as_str),
            Some("team/genre")
        );
        // An idle resync: one Describe.
        let before = world.fake.total_calls();
        let (_, changes) = world.sync(&mut filter).await;
        assert!(changes.is_empty());
        assert_eq!(world.fake.total_calls() - before, 1);
    }

    #[tokio::test]
    async fn a_new_expression_is_published_once_active_and_the_old_filter_deleted_after_the_grace()
    {
        let (mut world, mut filter) = with_ready_filter(2).await;
        let old = arn_of(&filter);

        filter.spec.filter_expression = OTHER.into();
        world
            .expect(&mut filter, "Replacing", Some("CreateFilter"))
            .await;
        assert_eq!(
            arn_of(&filter),
            old,
            "the old filter stays published meanwhile"
        );
        let replacement = status(&filter).replacement_arn.expect("a replacement");

        let now = Timestamp::now();
        world.now = Some(now);
        world
            .expect(&mut filter, "Active", Some("PublishFilter"))
            .await;
        assert_eq!(arn_of(&filter), replacement);
        let status_now = status(&filter);
        assert_eq!(status_now.filter_expression.as_deref(), Some(OTHER));
        assert_eq!(status_now.retired.len(), 1);
        assert_eq!(due(&status_now.retired[0]), now + seconds(60));
        assert_eq!(
            world.fake.status(&old),
            Some(Status::Active),
            "kept for the grace"
        );
        let wait = filter.requeue(&status_now, now, timing());
        assert_eq!(wait, Some(Duration::from_secs(60)));

        world.now = Some(now + seconds(30));
        world.sync(&mut filter).await;
        assert_eq!(
            world.fake.calls("DeleteFilter"),
            0,
            "not before the grace is over"
        );

        world.now = Some(now + seconds(61));
        world
            .expect(&mut filter, "Active", Some("DeleteFilter"))
            .await;
        world.sync_times(&mut filter, 3).await;
        assert!(status(&filter).retired.is_empty());
        assert_eq!(world.fake.arns(Kind::Filter), [replacement]);
    }

    #[tokio::test]
    async fn a_change_during_a_replacement_abandons_it_at_once() {
        let (world, mut filter) = with_ready_filter(3).await;
        let first = arn_of(&filter);
        filter.spec.filter_expression = OTHER.into();
        world.sync(&mut filter).await;
        let abandoned = status(&filter).replacement_arn.expect("a replacement");

        filter.spec.filter_expression = THIRD.into();
        world.sync_until_ready(&mut filter).await;
        let published = arn_of(&filter);
        assert!(published.ends_with(&filter_name(&filter)), "{published}");
        let retired: Vec<String> = status(&filter)
            .retired
            .iter()
            .map(|r| r.arn.clone())
            .collect();
        assert!(retired.contains(&first), "{retired:?}");
        world.sync_times(&mut filter, 6).await;
        assert_eq!(world.fake.status(&abandoned), None, "abandoned one deleted");
        assert_eq!(world.fake.status(&first), Some(Status::Active), "grace");
    }

    #[tokio::test]
    async fn back_to_the_published_expression_drops_the_replacement() {
        let (world, mut filter) = with_ready_filter(3).await;
        let published = arn_of(&filter);
        let expression = filter.spec.filter_expression.clone();
        filter.spec.filter_expression = OTHER.into();
        world.sync(&mut filter).await;
        let abandoned = status(&filter).replacement_arn.expect("a replacement");
        filter.spec.filter_expression = expression;
        world.expect(&mut filter, "Active", None).await;
        assert_eq!(arn_of(&filter), published);
        assert_eq!(status(&filter).replacement_arn, None);
        world.sync_times(&mut filter, 6).await;
        assert_eq!(world.fake.status(&abandoned), None);
        assert_eq!(world.fake.arns(Kind::Filter), [published]);
    }

    #[tokio::test]
    async fn a_failed_filter_is_replaced_without_a_grace() {
        let (world, mut filter) = with_ready_filter(0).await;
        let failed = arn_of(&filter);
        world.fake.set_status(&failed, Status::CreateFailed);
        world.expect(&mut filter, "CreateFailed", None).await;
        filter.spec.filter_expression = OTHER.into();
        let (outcome, changes) = world.sync(&mut filter).await;
        assert_eq!(outcome.reason(), "Active", "{outcome:?}");
        let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
        assert_eq!(actions, ["CreateFilter", "DeleteFilter"]);
        assert_ne!(arn_of(&filter), failed);
    }

    #[tokio::test]
    async fn an_invalid_new_expression_is_terminal_and_the_published_filter_stays() {
        let (world, mut filter) = with_ready_filter(0).await;
        let published = arn_of(&filter);
        filter.spec.filter_expression = "INCLUDE nonsense".into();
        world
            .fake
            .fail_next("CreateFilter", "InvalidInputException");
        world.expect(&mut filter, "InvalidInput", None).await;
        assert_eq!(arn_of(&filter), published);
        assert_eq!(world.fake.status(&published), Some(Status::Active));
    }

    #[tokio::test]
    async fn a_filter_deleted_outside_is_created_again_and_throttling_retries() {
        let (world, mut filter) = with_ready_filter(0).await;
        world.fake.remove(&arn_of(&filter));
        world
            .fake
            .fail_next("DescribeFilter", "ThrottlingException");
        world.expect(&mut filter, "Throttled", None).await;
        world
            .expect(&mut filter, "Active", Some("CreateFilter"))
            .await;
        assert_eq!(world.fake.calls("CreateFilter"), 2);
    }

    #[tokio::test]
    async fn cleanup_deletes_published_replacement_and_retired_filters() {
        let (world, mut filter) = with_ready_filter(2).await;
        filter.spec.filter_expression = OTHER.into();
        world.sync_until_ready(&mut filter).await;
        filter.spec.filter_expression = THIRD.into();
        world.sync(&mut filter).await;
        let s = status(&filter);
        assert!(
            s.replacement_arn.is_some() && !s.retired.is_empty(),
            "{s:?}"
        );
        assert_eq!(world.fake.arns(Kind::Filter).len(), 3);
        world.cleanup_until_gone(&filter).await;
        assert!(world.fake.arns(Kind::Filter).is_empty());
    }

    #[tokio::test]
    async fn the_dataset_group_waits_for_its_filters() {
        let mut world = world(0).await;
        let filter = genre();
        world.put(&filter);
        let (group, ..) = crate::reconcile::testing::movielens();
        let mut group = group;
        world.sync_until_ready(&mut group).await;
        let (step, _) = world.cleanup(&group).await.expect("cleanup step");
        assert!(
            matches!(&step, Deletion::Waiting { reason: "DependentsExist", message } if message.contains("Filter team/genre")),
            "{step:?}"
        );
    }

    fn timing() -> Timing {
        Timing {
            poll: Duration::from_secs(5),
            resync: Duration::from_secs(600),
        }
    }
}
