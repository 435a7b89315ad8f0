//! `DatasetExportJob`: its dataset group, then runs of CreateDatasetExportJob on one of its
//! datasets, once per spec or on a schedule ([`super::runs`]).

use k8s_openapi::jiff::Timestamp;
use personalize_api::jobs::JobRun;
use personalize_api::{DatasetExportJob, DatasetExportJobStatus};

use super::batch::output_path;
use super::dataset_group::dataset_arn;
use super::runs::{JobKind, job_kinds};
use super::tags;
use crate::personalize::NewDatasetExportJob;

impl JobKind for DatasetExportJob {
    type Request = NewDatasetExportJob;
    const NOUN: &'static str = "dataset export job";

    /// The dataset of the spec's type in the group (`refs`).
    fn request(
        &self,
        group: &String,
        name: &str,
        scheduled: Option<Timestamp>,
    ) -> (NewDatasetExportJob, JobRun) {
        let spec = &self.spec;
        let output = output_path(&spec.output_path, name, scheduled);
        let request = NewDatasetExportJob {
            name: name.to_owned(),
            dataset_arn: dataset_arn(group, spec.dataset_type.as_str()),
            ingestion_mode: spec.ingestion_mode.as_str().to_owned(),
            output_path: output.clone(),
            output_kms_key_arn: spec.output_kms_key_arn.clone(),
            role_arn: spec.role_arn.clone(),
            tags: tags(self, &spec.tags),
        };
        let run = JobRun {
            output_path: Some(output),
            ..JobRun::default()
        };
        (request, run)
    }

    fn resolved(&self, group: &String, status: &mut DatasetExportJobStatus) {
        status.dataset_arn = Some(dataset_arn(group, self.spec.dataset_type.as_str()));
    }
}

job_kinds!(DatasetExportJob => personalize_api::DatasetExportJobStatus, NewDatasetExportJob;);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::testing::{World, arn_of, example_in, ready_group_and_solution};

    #[tokio::test]
    async fn exports_the_dataset_of_its_type_at_each_occurrence() {
        let mut world = World::new();
        let (group, _) = ready_group_and_solution(&mut world).await;
        let mut job: DatasetExportJob = example_in("jobs", "dataset-export-job.yaml");
        job.metadata.creation_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-11-29T00:00:00Z".parse().expect("time"),
            ));
        world.now = Some("2026-11-30T06:00:10Z".parse().expect("time"));
        world
            .expect(&mut job, "Active", Some("CreateDatasetExportJob"))
            .await;
        let group_arn = group.status.and_then(|s| s.resource.arn).expect("group");
        let (dataset, output) = world.fake.job(&arn_of(&job)).expect("a job");
        assert_eq!(dataset, dataset_arn(&group_arn, "Interactions"));
        assert!(dataset.ends_with("/INTERACTIONS"), "{dataset}");
        let run = &job.status.clone().unwrap_or_default().jobs.runs[0];
        assert_eq!(run.name, "team-interactions-weekly-20261130-0600");
        assert_eq!(output, run.output_path);
    }
}
