//! An in-memory [`Personalize`] for the reconcilers' fast tests: resources with Personalize's
//! names, ARNs, status transitions (instant, or after a number of Describes), dependency
//! checks on delete and ownership tags, plus what tests need to provoke the operator: a fault on
//! the next call of an operation, a resource removed behind its back, calls counted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use k8s_openapi::jiff::Timestamp;

use super::{
    AwsError, Backend, CampaignDetails, CampaignUpdate, DatasetDetails, EventTrackerDetails,
    FilterDetails, ImportDetails, Kind, Listing, MetricAttributionChange, MetricAttributionDetails,
    NewCampaign, NewDataset, NewDatasetGroup, NewEventTracker, NewFilter, NewImportJob,
    NewMetricAttribution, NewRecommender, NewSchema, NewSolution, Observation, Personalize,
    RecommenderDetails, RecommenderSettings, RecommenderUpdate, SolutionDetails, Status, Summary,
    Tags,
};
use super::{
    JobDetails, NewBatchInferenceJob, NewBatchSegmentJob, NewDataDeletionJob, NewDatasetExportJob,
};

const PREFIX: &str = "arn:aws:personalize:us-east-1:000000000000";

/// The fake service; clones share one state.
#[derive(Clone, Default)]
pub struct Fake(Arc<Mutex<State>>);

#[derive(Default)]
struct State {
    resources: BTreeMap<String, Entry>,
    calls: BTreeMap<&'static str, u32>,
    faults: Vec<(&'static str, &'static str)>,
    /// Describes a new resource (or a deletion, or an update) takes to settle; 0: at once.
    steps: u32,
    versions: u32,
    /// The operation being answered (for errors).
    operation: &'static str,
}

struct Entry {
    kind: Kind,
    name: String,
    parent: Option<String>,
    status: Status,
    describes: u32,
    created: Timestamp,
    tags: Tags,
    data: Data,
}

enum Data {
    Group,
    Schema,
    Dataset(NewDataset),
    Import,
    Solution(Box<NewSolution>),
    Version(String),
    Campaign(NewCampaign, Option<CampaignUpdate>),
    Tracker(String),
    Filter(String),
    Recommender(RecommenderSettings, Option<RecommenderUpdate>),
    Metrics(MetricAttributionDetails),
    /// A job: what it reads (solution version, dataset, file) and where it writes.
    Job {
        input: String,
        output: Option<String>,
    },
}

fn err(operation: &'static str, code: &str, message: impl Into<String>) -> AwsError {
    AwsError::new(operation, code, message)
}

fn not_found(operation: &'static str, arn: &str) -> AwsError {
    err(
        operation,
        "ResourceNotFoundException",
        format!("{arn} does not exist"),
    )
}

impl Fake {
    /// A fake whose resources are ACTIVE as soon as they are created.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fake whose resources settle after `steps` Describes.
    pub fn with_steps(steps: u32) -> Self {
        let fake = Self::default();
        fake.state().steps = steps;
        fake
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next call of `operation` fails with the AWS error `code`.
    pub fn fail_next(&self, operation: &'static str, code: &'static str) {
        self.state().faults.push((operation, code));
    }

    /// Removes a resource behind the operator's back.
    pub fn remove(&self, arn: &str) {
        self.state().resources.remove(arn);
    }

    /// How often `operation` was called.
    pub fn calls(&self, operation: &str) -> u32 {
        self.state().calls.get(operation).copied().unwrap_or(0)
    }

    /// Calls of every operation so far.
    pub fn total_calls(&self) -> u32 {
        self.state().calls.values().sum()
    }

    /// Calls of operations that change something (anything but Describe, List and Get).
    pub fn writes(&self) -> u32 {
        let reads = ["Describe", "List", "Get"];
        let state = self.state();
        let calls = state.calls.iter();
        calls
            .filter(|(op, _)| !reads.iter().any(|r| op.starts_with(r)))
            .map(|(_, n)| n)
            .sum()
    }

    /// ARNs of every resource of a kind.
    pub fn arns(&self, kind: Kind) -> Vec<String> {
        let state = self.state();
        state
            .resources
            .iter()
            .filter(|(_, e)| e.kind == kind && !matches!(e.data, Data::Version(_)))
            .map(|(arn, _)| arn.clone())
            .collect()
    }

    /// The status of a resource, if it exists.
    pub fn status(&self, arn: &str) -> Option<Status> {
        self.state().resources.get(arn).map(|e| e.status.clone())
    }

    /// What a job was created with: what it reads (solution version ARN for batch jobs, dataset
    /// ARN for exports, the file for deletions) and where it writes.
    pub fn job(&self, arn: &str) -> Option<(String, Option<String>)> {
        match &self.state().resources.get(arn)?.data {
            Data::Job { input, output } => Some((input.clone(), output.clone())),
            _ => None,
        }
    }

    /// The tags of a resource.
    pub fn tags(&self, arn: &str) -> Tags {
        let state = self.state();
        state
            .resources
            .get(arn)
            .map(|e| e.tags.clone())
            .unwrap_or_default()
    }

    /// Sets a resource's status (e.g. CREATE FAILED).
    pub fn set_status(&self, arn: &str, status: Status) {
        if let Some(e) = self.state().resources.get_mut(arn) {
            e.status = status;
        }
    }

    /// Create<Kind> of a resource named `name` in the dataset group `group`.
    fn create_child(
        &self,
        operation: &'static str,
        kind: Kind,
        name: &str,
        group: &str,
        tags: &Tags,
        data: Data,
    ) -> Result<String, AwsError> {
        let mut state = self.enter(operation)?;
        state.insert(kind, kind.path(name), Some(group), tags, data)
    }

    /// Describe<Kind>: the resource's status and the details `details` reads from its data
    /// (`None`: not a resource of that kind).
    fn look<T>(
        &self,
        operation: &'static str,
        arn: &str,
        details: impl FnOnce(&Data) -> Option<T>,
    ) -> Result<Observation<T>, AwsError> {
        let mut state = self.enter(operation)?;
        let entry = state.describe(arn)?;
        let found = details(&entry.data).ok_or_else(|| not_found(operation, arn))?;
        Ok(Observation::new(entry.status.clone(), found))
    }

    /// Describe<Job>: its status, failure reason and times.
    fn look_job(
        &self,
        operation: &'static str,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        let mut state = self.enter(operation)?;
        let entry = state.describe(arn)?;
        let failed = entry.status == Status::CreateFailed || entry.status.as_str() == "FAILED";
        Ok(Observation {
            status: entry.status.clone(),
            failure_reason: failed.then(|| "the input file does not exist".to_owned()),
            details: JobDetails {
                created: Some(entry.created),
                last_updated: Some(entry.created),
                num_deleted: None,
            },
        })
    }

    /// Counts a call and fails it if a fault is queued for it.
    fn enter(&self, operation: &'static str) -> Result<MutexGuard<'_, State>, AwsError> {
        let mut state = self.state();
        state.operation = operation;
        *state.calls.entry(operation).or_default() += 1;
        if let Some(i) = state.faults.iter().position(|(op, _)| *op == operation) {
            let (_, code) = state.faults.remove(i);
            return Err(err(operation, code, "injected by the test"));
        }
        Ok(state)
    }
}

impl State {
    fn insert(
        &mut self,
        kind: Kind,
        path: String,
        parent: Option<&str>,
        tags: &Tags,
        data: Data,
    ) -> Result<String, AwsError> {
        let operation = self.operation;
        let arn = format!("{PREFIX}:{path}");
        if self.resources.contains_key(&arn) {
            return Err(err(
                operation,
                "ResourceAlreadyExistsException",
                format!("{arn} already exists"),
            ));
        }
        if let Some(parent) = parent
            && !self.resources.contains_key(parent)
        {
            return Err(not_found(operation, parent));
        }
        // Data deletion jobs have statuses of their own.
        let deletion = kind == Kind::DataDeletionJob;
        let status = match (self.steps, deletion) {
            (0, false) => Status::Active,
            (0, true) => Status::Other("COMPLETED".into()),
            (_, false) => Status::CreatePending,
            (_, true) => Status::Other("PENDING".into()),
        };
        let name = path.rsplit('/').next().unwrap_or_default().to_owned();
        self.resources.insert(
            arn.clone(),
            Entry {
                kind,
                name,
                parent: parent.map(str::to_owned),
                status,
                describes: 0,
                created: Timestamp::now(),
                tags: tags.clone(),
                data,
            },
        );
        Ok(arn)
    }

    /// A Describe: moves the resource along its lifecycle, then reports it.
    fn describe(&mut self, arn: &str) -> Result<&mut Entry, AwsError> {
        let operation = self.operation;
        self.tick(arn);
        self.resources
            .get_mut(arn)
            .ok_or_else(|| not_found(operation, arn))
    }

    /// One look at a resource (a Describe, or a List that shows it): after `steps` looks a
    /// creation, update or deletion settles.
    fn tick(&mut self, arn: &str) {
        let steps = self.steps;
        let Some(entry) = self.resources.get_mut(arn) else {
            return;
        };
        entry.describes += 1;
        if entry.describes < steps {
            return;
        }
        if entry.status.is_deleting() {
            self.resources.remove(arn);
            return;
        }
        entry.status = match entry.status {
            Status::CreatePending | Status::CreateInProgress => Status::Active,
            Status::StartPending | Status::StartInProgress => Status::Active,
            Status::StopPending | Status::StopInProgress => Status::Inactive,
            Status::Other(ref s) if s == "PENDING" || s == "IN_PROGRESS" => {
                Status::Other("COMPLETED".into())
            }
            ref other => other.clone(),
        };
        if let Data::Recommender(config, Some(update)) = &mut entry.data
            && update.status.is_creating()
        {
            update.status = Status::Active;
            *config = update.config.clone();
        }
        if let Data::Campaign(campaign, Some(update)) = &mut entry.data
            && update.status.is_creating()
        {
            update.status = Status::Active;
            if let Some(version) = &update.solution_version_arn {
                campaign.solution_version_arn = version.clone();
            }
        }
    }

    fn children<'a>(&'a self, parent: &'a str, kind: Kind) -> impl Iterator<Item = Summary> + 'a {
        self.resources
            .iter()
            .filter(move |(_, e)| e.kind == kind && e.parent.as_deref() == Some(parent))
            .map(|(arn, e)| summary(arn, e))
    }
}

fn job_data(input: &str, output: Option<&String>) -> Data {
    Data::Job {
        input: input.to_owned(),
        output: output.cloned(),
    }
}

fn summary(arn: &str, e: &Entry) -> Summary {
    Summary {
        arn: arn.to_owned(),
        name: Some(e.name.clone()),
        status: Some(e.status.clone()),
        created: Some(e.created),
        training_mode: match &e.data {
            Data::Version(mode) => Some(mode.clone()),
            _ => None,
        },
        failure_reason: None,
    }
}

impl Backend for Fake {
    fn personalize(&self, _region: Option<&str>) -> Arc<dyn Personalize> {
        Arc::new(self.clone())
    }
}

#[async_trait]
impl Personalize for Fake {
    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let state = self.enter("ListTagsForResource")?;
        let entry = state.resources.get(arn);
        entry
            .map(|e| e.tags.clone())
            .ok_or_else(|| not_found("ListTagsForResource", arn))
    }

    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut state = self.enter("TagResource")?;
        let entry = state.resources.get_mut(arn);
        let entry = entry.ok_or_else(|| not_found("TagResource", arn))?;
        entry.tags.extend(tags.clone());
        Ok(())
    }

    async fn untag(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut state = self.enter("UntagResource")?;
        let entry = state.resources.get_mut(arn);
        let entry = entry.ok_or_else(|| not_found("UntagResource", arn))?;
        entry.tags.retain(|k, _| !keys.contains(k));
        Ok(())
    }

    async fn list(&self, listing: Listing<'_>) -> Result<Vec<Summary>, AwsError> {
        let (operation, parent, kind) = match listing {
            Listing::DatasetGroups => ("ListDatasetGroups", None, Kind::DatasetGroup),
            Listing::Schemas => ("ListSchemas", None, Kind::Schema),
            Listing::Datasets(p) => ("ListDatasets", Some(p), Kind::Dataset),
            Listing::Solutions(p) => ("ListSolutions", Some(p), Kind::Solution),
            Listing::EventTrackers(p) => ("ListEventTrackers", Some(p), Kind::EventTracker),
            Listing::Filters(p) => ("ListFilters", Some(p), Kind::Filter),
            Listing::Recommenders(p) => ("ListRecommenders", Some(p), Kind::Recommender),
            Listing::MetricAttributions(p) => {
                ("ListMetricAttributions", Some(p), Kind::MetricAttribution)
            }
            Listing::Campaigns(p) => ("ListCampaigns", Some(p), Kind::Campaign),
            Listing::SolutionVersions(p) => ("ListSolutionVersions", Some(p), Kind::Solution),
        };
        let mut state = self.enter(operation)?;
        let all: Vec<String> = state.resources.keys().cloned().collect();
        for arn in all {
            let entry = &state.resources[&arn];
            let shown = match &entry.data {
                Data::Version(_) => matches!(listing, Listing::SolutionVersions(_)),
                _ => entry.kind == kind,
            };
            if shown {
                state.tick(&arn);
            }
        }
        Ok(match (listing, parent) {
            (Listing::SolutionVersions(p), _) => state
                .resources
                .iter()
                .filter(|(_, e)| {
                    matches!(e.data, Data::Version(_)) && e.parent.as_deref() == Some(p)
                })
                .map(|(arn, e)| summary(arn, e))
                .collect(),
            (Listing::Campaigns(solution), _) => state
                .resources
                .iter()
                .filter(|(_, e)| match &e.data {
                    Data::Campaign(c, _) => c.solution_version_arn.starts_with(solution),
                    _ => false,
                })
                .map(|(arn, e)| summary(arn, e))
                .collect(),
            (_, Some(p)) => state.children(p, kind).collect(),
            (_, None) => state
                .resources
                .iter()
                .filter(|(_, e)| e.kind == kind)
                .map(|(arn, e)| summary(arn, e))
                .collect(),
        })
    }

    async fn delete(&self, kind: Kind, arn: &str) -> Result<(), AwsError> {
        let operation = kind.delete_operation();
        let mut state = self.enter(operation)?;
        if !state.resources.contains_key(arn) {
            return Err(not_found(operation, arn));
        }
        // Children block deletion, except runs (import jobs) and a solution's versions.
        let versions_of = format!("{arn}/");
        let blocked = state.resources.values().any(|e| match &e.data {
            Data::Import | Data::Version(_) => false,
            Data::Dataset(d) if d.schema_arn == arn => true,
            Data::Campaign(c, _) if c.solution_version_arn.starts_with(&versions_of) => true,
            _ => e.parent.as_deref() == Some(arn),
        });
        if blocked {
            return Err(err(
                operation,
                "ResourceInUseException",
                format!("{arn} is in use"),
            ));
        }
        if state.steps == 0 || kind == Kind::Schema {
            state
                .resources
                .retain(|a, e| a != arn && e.parent.as_deref() != Some(arn));
        } else if let Some(e) = state.resources.get_mut(arn) {
            e.status = Status::DeletePending;
            e.describes = 0;
        }
        Ok(())
    }

    async fn create_dataset_group(&self, req: &NewDatasetGroup) -> Result<String, AwsError> {
        let mut state = self.enter("CreateDatasetGroup")?;
        let path = format!("dataset-group/{}", req.name);
        state.insert(Kind::DatasetGroup, path, None, &req.tags, Data::Group)
    }

    async fn describe_dataset_group(&self, arn: &str) -> Result<Observation<()>, AwsError> {
        let mut state = self.enter("DescribeDatasetGroup")?;
        let entry = state.describe(arn)?;
        Ok(Observation::new(entry.status.clone(), ()))
    }

    async fn create_schema(&self, req: &NewSchema) -> Result<String, AwsError> {
        let mut state = self.enter("CreateSchema")?;
        let path = format!("schema/{}", req.name);
        let arn = state.insert(Kind::Schema, path, None, &Tags::new(), Data::Schema)?;
        if let Some(e) = state.resources.get_mut(&arn) {
            e.status = Status::Active; // schemas have no lifecycle
        }
        Ok(arn)
    }

    async fn describe_schema(&self, arn: &str) -> Result<Observation<()>, AwsError> {
        let mut state = self.enter("DescribeSchema")?;
        state.describe(arn)?;
        Ok(Observation::new(Status::Active, ()))
    }

    async fn create_dataset(&self, req: &NewDataset) -> Result<String, AwsError> {
        let mut state = self.enter("CreateDataset")?;
        let group = req.dataset_group_arn.rsplit('/').next().unwrap_or_default();
        let path = format!("dataset/{group}/{}", req.dataset_type.to_ascii_uppercase());
        let (parent, data) = (req.dataset_group_arn.clone(), Data::Dataset(req.clone()));
        state.insert(Kind::Dataset, path, Some(&parent), &Tags::new(), data)
    }

    async fn describe_dataset(&self, arn: &str) -> Result<Observation<DatasetDetails>, AwsError> {
        let mut state = self.enter("DescribeDataset")?;
        let entry = state.describe(arn)?;
        let schema_arn = match &entry.data {
            Data::Dataset(d) => Some(d.schema_arn.clone()),
            _ => None,
        };
        Ok(Observation::new(
            entry.status.clone(),
            DatasetDetails { schema_arn },
        ))
    }

    async fn update_dataset(&self, arn: &str, schema_arn: &str) -> Result<(), AwsError> {
        let mut state = self.enter("UpdateDataset")?;
        match state.resources.get_mut(arn).map(|e| &mut e.data) {
            Some(Data::Dataset(d)) => {
                d.schema_arn = schema_arn.to_owned();
                Ok(())
            }
            _ => Err(not_found("UpdateDataset", arn)),
        }
    }

    async fn create_import_job(&self, req: &NewImportJob) -> Result<String, AwsError> {
        let mut state = self.enter("CreateDatasetImportJob")?;
        let path = format!("dataset-import-job/{}", req.name);
        let (parent, data) = (req.dataset_arn.clone(), Data::Import);
        state.insert(
            Kind::DatasetImportJob,
            path,
            Some(&parent),
            &Tags::new(),
            data,
        )
    }

    async fn describe_import_job(&self, arn: &str) -> Result<Observation<ImportDetails>, AwsError> {
        let mut state = self.enter("DescribeDatasetImportJob")?;
        let entry = state.describe(arn)?;
        let details = ImportDetails {
            last_updated: Timestamp::from_second(1_700_000_000).ok(),
        };
        Ok(Observation::new(entry.status.clone(), details))
    }

    async fn create_solution(&self, req: &NewSolution) -> Result<String, AwsError> {
        let mut state = self.enter("CreateSolution")?;
        let path = format!("solution/{}", req.name);
        let (parent, data) = (
            req.dataset_group_arn.clone(),
            Data::Solution(Box::new(req.clone())),
        );
        state.insert(Kind::Solution, path, Some(&parent), &req.tags, data)
    }

    async fn describe_solution(&self, arn: &str) -> Result<Observation<SolutionDetails>, AwsError> {
        let mut state = self.enter("DescribeSolution")?;
        let (status, solution) = {
            let entry = state.describe(arn)?;
            let solution = match &entry.data {
                Data::Solution(solution) => solution.as_ref().clone(),
                _ => NewSolution::default(),
            };
            (entry.status.clone(), solution)
        };
        let latest = state
            .resources
            .iter()
            .filter(|(_, e)| matches!(e.data, Data::Version(_)) && e.parent.as_deref() == Some(arn))
            .map(|(a, e)| (a.clone(), e.status.clone()))
            .next_back();
        Ok(Observation::new(
            status,
            SolutionDetails {
                perform_auto_training: Some(solution.auto_training.enabled),
                schedule: solution.auto_training.schedule,
                update_status: None,
                events: solution.events,
                incremental_update: solution.incremental_update,
                latest_version: latest,
            },
        ))
    }

    async fn update_solution(&self, arn: &str, req: &NewSolution) -> Result<(), AwsError> {
        let mut state = self.enter("UpdateSolution")?;
        match state.resources.get_mut(arn).map(|e| &mut e.data) {
            Some(Data::Solution(current)) => {
                current.auto_training = req.auto_training.clone();
                if !req.events.is_empty() {
                    current.events = req.events.clone();
                }
                if req.incremental_update.is_some() {
                    current.incremental_update = req.incremental_update;
                }
                Ok(())
            }
            _ => Err(not_found("UpdateSolution", arn)),
        }
    }

    async fn create_solution_version(
        &self,
        solution_arn: &str,
        mode: &str,
    ) -> Result<String, AwsError> {
        let mut state = self.enter("CreateSolutionVersion")?;
        state.versions += 1;
        let solution = solution_arn.rsplit('/').next().unwrap_or_default();
        let path = format!("solution/{solution}/v{:04}", state.versions);
        let data = Data::Version(mode.to_owned());
        state.insert(Kind::Solution, path, Some(solution_arn), &Tags::new(), data)
    }

    async fn stop_solution_version(&self, arn: &str) -> Result<(), AwsError> {
        let mut state = self.enter("StopSolutionVersionCreation")?;
        match state.resources.get_mut(arn) {
            Some(e) if e.status.is_creating() => {
                e.status = Status::CreateStopped;
                Ok(())
            }
            Some(_) => Err(err(
                "StopSolutionVersionCreation",
                "InvalidInputException",
                "not training",
            )),
            None => Err(not_found("StopSolutionVersionCreation", arn)),
        }
    }

    async fn solution_metrics(&self, version_arn: &str) -> Result<BTreeMap<String, f64>, AwsError> {
        let state = self.enter("GetSolutionMetrics")?;
        if !state.resources.contains_key(version_arn) {
            return Err(not_found("GetSolutionMetrics", version_arn));
        }
        Ok(BTreeMap::from([(
            "normalized_discounted_cumulative_gain_at_10".to_owned(),
            0.2,
        )]))
    }

    async fn create_campaign(&self, req: &NewCampaign) -> Result<String, AwsError> {
        let mut state = self.enter("CreateCampaign")?;
        if !state.resources.contains_key(&req.solution_version_arn) {
            return Err(not_found("CreateCampaign", &req.solution_version_arn));
        }
        let path = format!("campaign/{}", req.name);
        let data = Data::Campaign(req.clone(), None);
        state.insert(Kind::Campaign, path, None, &req.tags, data)
    }

    async fn describe_campaign(&self, arn: &str) -> Result<Observation<CampaignDetails>, AwsError> {
        let mut state = self.enter("DescribeCampaign")?;
        let entry = state.describe(arn)?;
        let Data::Campaign(campaign, update) = &entry.data else {
            return Err(not_found("DescribeCampaign", arn));
        };
        let details = CampaignDetails {
            solution_version_arn: Some(campaign.solution_version_arn.clone()),
            min_provisioned_tps: Some(campaign.min_provisioned_tps),
            item_exploration: campaign
                .config
                .as_ref()
                .map(|c| c.item_exploration.clone())
                .unwrap_or_default(),
            ranking_influence: campaign
                .config
                .as_ref()
                .map(|c| c.ranking_influence.clone())
                .unwrap_or_default(),
            latest_update: update.clone(),
        };
        Ok(Observation::new(entry.status.clone(), details))
    }

    async fn update_campaign(&self, arn: &str, req: &NewCampaign) -> Result<(), AwsError> {
        let mut state = self.enter("UpdateCampaign")?;
        let steps = state.steps;
        let Some(Data::Campaign(campaign, update)) =
            state.resources.get_mut(arn).map(|e| &mut e.data)
        else {
            return Err(not_found("UpdateCampaign", arn));
        };
        let status = if steps == 0 {
            Status::Active
        } else {
            Status::CreatePending
        };
        campaign.min_provisioned_tps = req.min_provisioned_tps;
        campaign.config = req.config.clone();
        if steps == 0 {
            campaign.solution_version_arn = req.solution_version_arn.clone();
        }
        *update = Some(CampaignUpdate {
            status,
            solution_version_arn: Some(req.solution_version_arn.clone()),
            failure_reason: None,
        });
        if let Some(e) = state.resources.get_mut(arn) {
            e.describes = 0;
        }
        Ok(())
    }

    async fn create_event_tracker(&self, req: &NewEventTracker) -> Result<String, AwsError> {
        let mut state = self.enter("CreateEventTracker")?;
        if state
            .children(&req.dataset_group_arn, Kind::EventTracker)
            .next()
            .is_some()
        {
            return Err(err(
                "CreateEventTracker",
                "ResourceAlreadyExistsException",
                "the dataset group already has an event tracker",
            ));
        }
        let path = format!("event-tracker/{}", req.name);
        let data = Data::Tracker(format!("tid-{}", req.name));
        let parent = req.dataset_group_arn.clone();
        state.insert(Kind::EventTracker, path, Some(&parent), &req.tags, data)
    }

    async fn describe_event_tracker(
        &self,
        arn: &str,
    ) -> Result<Observation<EventTrackerDetails>, AwsError> {
        let mut state = self.enter("DescribeEventTracker")?;
        let entry = state.describe(arn)?;
        let tracking_id = match &entry.data {
            Data::Tracker(id) => Some(id.clone()),
            _ => None,
        };
        Ok(Observation::new(
            entry.status.clone(),
            EventTrackerDetails { tracking_id },
        ))
    }

    async fn create_filter(&self, req: &NewFilter) -> Result<String, AwsError> {
        let data = Data::Filter(req.filter_expression.clone());
        let group = &req.dataset_group_arn;
        self.create_child(
            "CreateFilter",
            Kind::Filter,
            &req.name,
            group,
            &req.tags,
            data,
        )
    }

    async fn describe_filter(&self, arn: &str) -> Result<Observation<FilterDetails>, AwsError> {
        self.look("DescribeFilter", arn, |data| match data {
            Data::Filter(expression) => Some(FilterDetails {
                filter_expression: Some(expression.clone()),
            }),
            _ => None,
        })
    }

    async fn create_recommender(&self, req: &NewRecommender) -> Result<String, AwsError> {
        let data = Data::Recommender(req.config.clone(), None);
        let (group, kind) = (&req.dataset_group_arn, Kind::Recommender);
        self.create_child("CreateRecommender", kind, &req.name, group, &req.tags, data)
    }

    async fn describe_recommender(
        &self,
        arn: &str,
    ) -> Result<Observation<RecommenderDetails>, AwsError> {
        self.look("DescribeRecommender", arn, |data| match data {
            Data::Recommender(config, latest_update) => Some(RecommenderDetails {
                config: config.clone(),
                latest_update: latest_update.clone(),
            }),
            _ => None,
        })
    }

    async fn update_recommender(
        &self,
        arn: &str,
        config: &RecommenderSettings,
    ) -> Result<(), AwsError> {
        let mut state = self.enter("UpdateRecommender")?;
        let settled = state.steps == 0;
        let entry = state.resources.get_mut(arn);
        let Some(entry) = entry else {
            return Err(not_found("UpdateRecommender", arn));
        };
        let Data::Recommender(current, update) = &mut entry.data else {
            return Err(not_found("UpdateRecommender", arn));
        };
        let status = if settled {
            *current = config.clone();
            Status::Active
        } else {
            Status::CreatePending
        };
        *update = Some(RecommenderUpdate {
            status,
            config: config.clone(),
            failure_reason: None,
        });
        entry.describes = 0;
        Ok(())
    }

    async fn set_recommender_running(&self, arn: &str, running: bool) -> Result<(), AwsError> {
        let operation = if running {
            "StartRecommender"
        } else {
            "StopRecommender"
        };
        let mut state = self.enter(operation)?;
        let settled = state.steps == 0;
        let entry = state.resources.get_mut(arn);
        let entry = entry.ok_or_else(|| not_found(operation, arn))?;
        let (from, pending, done) = if running {
            (Status::Inactive, Status::StartPending, Status::Active)
        } else {
            (Status::Active, Status::StopPending, Status::Inactive)
        };
        if entry.status != from {
            let message = format!("the recommender is {}, not {from}", entry.status);
            return Err(err(operation, "InvalidInputException", message));
        }
        entry.status = if settled { done } else { pending };
        entry.describes = 0;
        Ok(())
    }

    async fn create_metric_attribution(
        &self,
        req: &NewMetricAttribution,
    ) -> Result<String, AwsError> {
        let operation = "CreateMetricAttribution";
        let mut state = self.enter(operation)?;
        let group = &req.dataset_group_arn;
        if state
            .children(group, Kind::MetricAttribution)
            .next()
            .is_some()
        {
            let message = "the dataset group already has a metric attribution";
            return Err(err(operation, "ResourceAlreadyExistsException", message));
        }
        let data = Data::Metrics(MetricAttributionDetails {
            metrics: req.metrics.clone(),
            output: Some(req.output.clone()),
        });
        let path = Kind::MetricAttribution.path(&req.name);
        state.insert(Kind::MetricAttribution, path, Some(group), &req.tags, data)
    }

    async fn describe_metric_attribution(
        &self,
        arn: &str,
    ) -> Result<Observation<MetricAttributionDetails>, AwsError> {
        let observed = self.look("DescribeMetricAttribution", arn, |data| match data {
            Data::Metrics(details) => Some(details.clone()),
            _ => None,
        })?;
        drop(self.enter("ListMetricAttributionMetrics")?); // as the SDK seam calls both
        Ok(observed)
    }

    /// Refuses a metric name that is still there, as Personalize does.
    async fn update_metric_attribution(
        &self,
        arn: &str,
        change: &MetricAttributionChange,
    ) -> Result<(), AwsError> {
        let operation = "UpdateMetricAttribution";
        let mut state = self.enter(operation)?;
        let entry = state.resources.get_mut(arn);
        let Some(Entry {
            data: Data::Metrics(details),
            ..
        }) = entry
        else {
            return Err(not_found(operation, arn));
        };
        details
            .metrics
            .retain(|m| !change.remove.contains(&m.metric_name));
        for metric in &change.add {
            if details
                .metrics
                .iter()
                .any(|m| m.metric_name == metric.metric_name)
            {
                let message = format!("metric {} already exists", metric.metric_name);
                return Err(err(operation, "InvalidInputException", message));
            }
            details.metrics.push(metric.clone());
        }
        details.metrics.sort();
        if let Some(output) = &change.output {
            details.output = Some(output.clone());
        }
        Ok(())
    }

    async fn create_batch_inference_job(
        &self,
        r: &NewBatchInferenceJob,
    ) -> Result<String, AwsError> {
        let data = job_data(&r.solution_version_arn, Some(&r.output_path));
        let mut state = self.enter("CreateBatchInferenceJob")?;
        let (kind, parent) = (
            Kind::BatchInferenceJob,
            Some(r.solution_version_arn.as_str()),
        );
        state.insert(kind, kind.path(&r.name), parent, &r.tags, data)
    }
    async fn describe_batch_inference_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        self.look_job("DescribeBatchInferenceJob", arn)
    }
    async fn create_batch_segment_job(&self, r: &NewBatchSegmentJob) -> Result<String, AwsError> {
        let data = job_data(&r.solution_version_arn, Some(&r.output_path));
        let mut state = self.enter("CreateBatchSegmentJob")?;
        let (kind, parent) = (Kind::BatchSegmentJob, Some(r.solution_version_arn.as_str()));
        state.insert(kind, kind.path(&r.name), parent, &r.tags, data)
    }
    async fn describe_batch_segment_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        self.look_job("DescribeBatchSegmentJob", arn)
    }
    async fn create_dataset_export_job(&self, r: &NewDatasetExportJob) -> Result<String, AwsError> {
        let data = job_data(&r.dataset_arn, Some(&r.output_path));
        let mut state = self.enter("CreateDatasetExportJob")?;
        let (kind, parent) = (Kind::DatasetExportJob, Some(r.dataset_arn.as_str()));
        state.insert(kind, kind.path(&r.name), parent, &r.tags, data)
    }
    async fn describe_dataset_export_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        self.look_job("DescribeDatasetExportJob", arn)
    }
    async fn create_data_deletion_job(&self, r: &NewDataDeletionJob) -> Result<String, AwsError> {
        let data = job_data(&r.data_location, None);
        let mut state = self.enter("CreateDataDeletionJob")?;
        let (kind, parent) = (Kind::DataDeletionJob, Some(r.dataset_group_arn.as_str()));
        state.insert(kind, kind.path(&r.name), parent, &r.tags, data)
    }
    async fn describe_data_deletion_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        let mut observed = self.look_job("DescribeDataDeletionJob", arn)?;
        if observed.status.as_str() == "COMPLETED" {
            observed.details.num_deleted = Some(2);
        }
        Ok(observed)
    }
}
