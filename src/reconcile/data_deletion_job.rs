//! `DataDeletionJob`: its dataset group, then runs of CreateDataDeletionJob, once per spec or
//! on a schedule ([`super::runs`]).

use k8s_openapi::jiff::Timestamp;
use personalize_api::jobs::JobRun;
use personalize_api::{DataDeletionJob, DataDeletionJobStatus};

use super::runs::{JobKind, job_kinds};
use super::tags;
use crate::personalize::NewDataDeletionJob;

impl JobKind for DataDeletionJob {
    type Request = NewDataDeletionJob;
    const NOUN: &'static str = "data deletion job";

    fn request(
        &self,
        group: &String,
        name: &str,
        _: Option<Timestamp>,
    ) -> (NewDataDeletionJob, JobRun) {
        let request = NewDataDeletionJob {
            name: name.to_owned(),
            dataset_group_arn: group.clone(),
            data_location: self.spec.data_location.clone(),
            role_arn: self.spec.role_arn.clone(),
            tags: tags(self, &self.spec.tags),
        };
        (request, JobRun::default())
    }

    fn resolved(&self, group: &String, status: &mut DataDeletionJobStatus) {
        status.dataset_group_arn = Some(group.clone());
    }
}

job_kinds!(DataDeletionJob => personalize_api::DataDeletionJobStatus, NewDataDeletionJob;);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personalize::Kind;
    use crate::personalize::fake::Fake;
    use crate::reconcile::testing::{World, arn_of, example_in, ready_group_and_solution};
    use crate::resource::Deletion;

    #[tokio::test]
    async fn deletes_the_listed_users_once_and_reports_how_many() {
        let mut world = World::with(Fake::with_steps(2));
        let (group, _) = ready_group_and_solution(&mut world).await;
        let mut job: DataDeletionJob = example_in("jobs", "data-deletion-job.yaml");
        world
            .expect(&mut job, "Running", Some("CreateDataDeletionJob"))
            .await;
        let status = job.status.clone().unwrap_or_default();
        assert_eq!(status.resource.status.as_deref(), Some("PENDING"));
        assert_eq!(
            status.dataset_group_arn,
            group.status.and_then(|s| s.resource.arn)
        );
        world.expect(&mut job, "Active", None).await;
        let status = job.status.clone().unwrap_or_default();
        assert_eq!(status.resource.status.as_deref(), Some("COMPLETED"));
        assert_eq!(status.jobs.runs[0].num_deleted, Some(2));
        let (file, _) = world.fake.job(&arn_of(&job)).expect("a job");
        assert_eq!(file, "s3://personalize-demo/privacy/users-to-delete.csv");
        world.sync_times(&mut job, 2).await;
        assert_eq!(world.fake.arns(Kind::DataDeletionJob).len(), 1);
        job.spec.run.revision = Some("2026-12-03".into());
        world
            .expect(&mut job, "Running", Some("CreateDataDeletionJob"))
            .await;
        assert_eq!(world.fake.arns(Kind::DataDeletionJob).len(), 2);
        // Deleting the object leaves the jobs: Personalize cannot delete them.
        let (deletion, changes) = world.cleanup(&job).await.expect("cleanup");
        assert_eq!(deletion, Deletion::Gone);
        assert!(changes.is_empty());
    }
}
