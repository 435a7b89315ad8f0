//! `EventTracker`: its dataset group (a reference or an ARN), then the event tracker, whose
//! tracking id goes to status and, when asked, to a Secret owned by the CR.

use std::collections::BTreeMap;

use personalize_api::{EventTracker, EventTrackerStatus};

use super::publish::{Target, apply_owned};
use super::{Context, Decided, Env, Error, Managed, aws_name, own_arn, settle, tags};
use crate::outcome::Outcome;
use crate::personalize::{EventTrackerDetails, NewEventTracker, Observation};
use crate::resource::{AwsResource, Deletion, Plan, lifecycle_plan};

/// Nothing of an event tracker changes in place.
impl AwsResource for NewEventTracker {
    fn plan(&self, observed: &Observation<EventTrackerDetails>) -> Plan {
        lifecycle_plan("event tracker", observed)
    }
}

impl Managed for EventTracker {
    async fn sync(&self, env: &Env<'_>, group: String, status: &mut EventTrackerStatus) -> Decided {
        status.dataset_group_arn = Some(group.clone());
        let desired = NewEventTracker {
            name: aws_name(self, self.spec.name.as_deref()),
            dataset_group_arn: group,
            tags: tags(self, &self.spec.tags),
        };
        let synced = env.sync_own(self, &desired, status).await?;
        let (outcome, observed) = settle(synced, || {
            format!(
                "event tracker {} is ACTIVE; tracking id in status.trackingId",
                desired.name
            )
        });
        status.resource.status = observed.as_ref().map(|o| o.status.to_string());
        status.tracking_id = observed.and_then(|o| o.details.tracking_id);
        Ok(outcome)
    }

    async fn cleanup(&self, env: &Env<'_>) -> Result<Deletion, Error> {
        env.delete_owned::<NewEventTracker>(own_arn(self)).await
    }

    /// The ARN and the tracking id.
    fn published(&self, status: &EventTrackerStatus) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        if let Some(arn) = &status.resource.arn {
            data.insert("eventTrackerArn".to_owned(), arn.clone());
        }
        if let Some(id) = &status.tracking_id {
            data.insert("trackingId".to_owned(), id.clone());
        }
        data
    }

    /// `spec.trackingIdSecretName`: the Secret holding the tracking id (key `trackingId`),
    /// once Ready.
    async fn after_sync(
        &self,
        ctx: &Context,
        status: &EventTrackerStatus,
        outcome: &Outcome,
    ) -> Result<(), Error> {
        let (Some(secret), Some(tracking_id), Outcome::Ready { .. }) = (
            &self.spec.tracking_id_secret_name,
            &status.tracking_id,
            outcome,
        ) else {
            return Ok(());
        };
        let data = BTreeMap::from([("trackingId".to_owned(), tracking_id.clone())]);
        apply_owned(self, ctx, Target::Secret, secret, &data).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::{ADOPT_ANNOTATION, OWNER_TAG};
    use crate::outcome::Outcome;
    use crate::personalize::{Kind, Personalize, Tags};
    use crate::reconcile::testing::{World, arn_of, movielens, ready_group_and_solution};
    use crate::resource::Deletion;

    async fn world_with_group() -> (World, EventTracker) {
        let mut world = World::new();
        ready_group_and_solution(&mut world).await;
        let (_, _, _, tracker) = movielens();
        (world, tracker)
    }

    /// Another tracker on the group, made outside the operator, with these tags.
    async fn made_elsewhere(world: &World, name: &str, tags: Tags) {
        let tracker = NewEventTracker {
            name: name.into(),
            dataset_group_arn: world.fake.arns(Kind::DatasetGroup).remove(0),
            tags,
        };
        let created = world.fake.create_event_tracker(&tracker).await;
        created.expect("created");
    }

    #[tokio::test]
    async fn creates_the_tracker_once_the_group_is_ready_and_reports_its_tracking_id() {
        let mut world = World::new();
        let (_, _, _, mut tracker) = movielens();
        world
            .created_once_the_group_is_ready(&mut tracker, "CreateEventTracker")
            .await;
        let status = tracker.status.clone().expect("status");
        assert!(status.tracking_id.is_some_and(|id| !id.is_empty()));
        let arn = arn_of(&tracker);
        assert_eq!(
            world.fake.tags(&arn).get(OWNER_TAG).map(String::as_str),
            Some("team/movielens")
        );
        // An idle resync: one Describe, nothing created.
        let before = world.fake.total_calls();
        let (outcome, changes) = world.sync(&mut tracker).await;
        assert!(matches!(outcome, Outcome::Ready { .. }) && changes.is_empty());
        assert_eq!(world.fake.total_calls() - before, 1);
    }

    #[tokio::test]
    async fn adopts_a_tracker_tagged_as_its_own_after_a_lost_status_write() {
        let (world, mut tracker) = world_with_group().await;
        world.sync(&mut tracker).await;
        let arn = arn_of(&tracker);
        tracker.status = None; // the status write was lost
        let (outcome, changes) = world.sync(&mut tracker).await;
        assert_eq!(outcome.reason(), "Active", "{outcome:?}");
        assert_eq!(arn_of(&tracker), arn);
        assert_eq!(changes[0].action, "AdoptEventTracker");
        assert_eq!(world.fake.arns(Kind::EventTracker), [arn]);
    }

    #[tokio::test]
    async fn a_tracker_owned_by_another_object_is_terminal_unless_adoption_is_asked() {
        let (world, mut tracker) = world_with_group().await;
        let foreign = Tags::from([(OWNER_TAG.to_owned(), "other/app".to_owned())]);
        made_elsewhere(&world, "team-movielens", foreign).await;
        let (outcome, _) = world.sync(&mut tracker).await;
        assert_eq!(outcome.reason(), "NameTaken", "{outcome:?}");
        assert!(outcome.message().contains(ADOPT_ANNOTATION), "{outcome:?}");
        tracker
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(ADOPT_ANNOTATION.to_owned(), "true".to_owned());
        world.expect(&mut tracker, "Active", None).await;
    }

    #[tokio::test]
    async fn a_second_tracker_on_the_group_is_terminal_and_says_why() {
        let (world, mut tracker) = world_with_group().await;
        made_elsewhere(&world, "another-name", Tags::new()).await;
        let (outcome, _) = world.sync(&mut tracker).await;
        assert_eq!(outcome.reason(), "NameTaken", "{outcome:?}");
        assert!(
            outcome.message().contains("already has an event tracker"),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn changed_tags_are_applied_in_place_and_idle_resyncs_do_not_look_at_them() {
        let (world, mut tracker) = world_with_group().await;
        tracker.spec.tags = Tags::from([("team".to_owned(), "recs".to_owned())]);
        world.sync(&mut tracker).await;
        let arn = arn_of(&tracker);
        assert_eq!(
            world.fake.calls("ListTagsForResource"),
            0,
            "created with its tags"
        );
        world
            .fake
            .tag(&arn, &Tags::from([("stray".to_owned(), "x".to_owned())]))
            .await
            .expect("tag");

        tracker.spec.tags = Tags::from([("team".to_owned(), "search".to_owned())]);
        let changes = world
            .expect(&mut tracker, "Active", Some("TagResource"))
            .await;
        assert_eq!(changes[1].action, "UntagResource");
        let tags = world.fake.tags(&arn);
        assert_eq!(tags.get("team").map(String::as_str), Some("search"));
        assert_eq!(
            tags.get(OWNER_TAG).map(String::as_str),
            Some("team/movielens")
        );
        assert!(
            !tags.contains_key("stray"),
            "tags not in the spec are removed: {tags:?}"
        );

        let before = world.fake.total_calls();
        let (_, changes) = world.sync(&mut tracker).await;
        assert!(changes.is_empty());
        assert_eq!(
            world.fake.total_calls() - before,
            1,
            "one Describe, no tag calls"
        );
    }

    #[tokio::test]
    async fn an_adopted_tracker_gets_the_owner_tag() {
        let (world, mut tracker) = world_with_group().await;
        made_elsewhere(&world, "team-movielens", Tags::new()).await;
        tracker
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(ADOPT_ANNOTATION.to_owned(), "true".to_owned());
        world
            .expect(&mut tracker, "Active", Some("AdoptEventTracker"))
            .await;
        let tags = world.fake.tags(&arn_of(&tracker));
        assert_eq!(
            tags.get(OWNER_TAG).map(String::as_str),
            Some("team/movielens")
        );
    }

    #[tokio::test]
    async fn a_tracker_deleted_outside_the_operator_is_created_again() {
        let (world, mut tracker) = world_with_group().await;
        world.sync(&mut tracker).await;
        world
            .removed_and_recreated(&mut tracker, "CreateEventTracker")
            .await;
    }

    #[tokio::test]
    async fn invalid_input_is_terminal_and_throttling_retries() {
        let (world, mut tracker) = world_with_group().await;
        world
            .fake
            .fail_next("CreateEventTracker", "InvalidInputException");
        world.expect(&mut tracker, "InvalidInput", None).await;
        world
            .fake
            .fail_next("CreateEventTracker", "ThrottlingException");
        world.expect(&mut tracker, "Throttled", None).await;
        world.expect(&mut tracker, "Active", None).await;
    }

    #[tokio::test]
    async fn cleanup_deletes_the_tracker_and_waits_until_it_is_gone() {
        let world = World::with(crate::personalize::fake::Fake::with_steps(2));
        let mut world = world;
        ready_group_and_solution(&mut world).await;
        let (_, _, _, mut tracker) = movielens();
        world.sync_until_ready(&mut tracker).await;
        let steps = world.cleanup_until_gone(&tracker).await;
        assert!(
            matches!(
                &steps[0],
                Deletion::Waiting {
                    reason: "Deleting",
                    ..
                }
            ),
            "{steps:?}"
        );
        assert!(world.fake.arns(Kind::EventTracker).is_empty());
        assert_eq!(world.fake.calls("DeleteEventTracker"), 1, "asked once");
    }
}
