//! The `DatasetGroup` kind: a Personalize dataset group with its datasets (interactions, items,
//! users), their schemas and their import jobs.

use std::borrow::Cow;

use kube::{CustomResource, KubeSchema};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::common::{DeletionPolicy, Publish, ResourceStatus, Tags, patterns};

/// A Personalize dataset group, its datasets and their imports.
///
/// The operator creates the dataset group, one schema and one dataset per entry in `datasets`,
/// and starts an import job whenever an import's `revision` changes. Import jobs are runs:
/// they are recorded in status and never deleted.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "DatasetGroup",
    plural = "datasetgroups",
    shortname = "pdg",
    category = "personalize",
    namespaced,
    status = "DatasetGroupStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Domain","type":"string","jsonPath":".spec.domain"}"#,
    printcolumn = r#"{"name":"Import","type":"string","jsonPath":".status.datasets.interactions.lastImport.status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"ARN","type":"string","priority":1,"jsonPath":".status.arn"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = crate::common::immutable_optional("name", "spec.name"),
    validation = crate::common::immutable_optional("region", "spec.region"),
    validation = crate::common::immutable_optional("domain", "spec.domain"),
    validation = crate::common::immutable_optional("kmsKeyArn", "spec.kmsKeyArn"),
    validation = crate::common::immutable_optional("roleArn", "spec.roleArn"),
    validation = Rule::new("!has(self.kmsKeyArn) || has(self.roleArn)")
        .message("spec.roleArn is required when spec.kmsKeyArn is set")
        .field_path(".roleArn")
)]
pub struct DatasetGroupSpec {
    /// Name of the Personalize dataset group. Defaults to a name derived from the namespace and
    /// name of this object. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// AWS region of the dataset group and everything created in it. Defaults to the operator's
    /// region. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::REGION))]
    pub region: Option<String>,
    /// Domain of a Domain dataset group (for recommenders); omit for a Custom dataset group.
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    /// KMS key used to encrypt the datasets. Needs `roleArn`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::KMS_KEY_ARN))]
    pub kms_key_arn: Option<String>,
    /// IAM role that Personalize assumes to use the KMS key. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::ROLE_ARN))]
    pub role_arn: Option<String>,
    /// The datasets of the group. `interactions` is required.
    pub datasets: Datasets,
    /// What happens to the AWS resources when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Tags for the dataset group.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Publish the ARN to a ConfigMap or Secret for apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

/// The domain of a Domain dataset group.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Domain {
    /// Retail and e-commerce.
    Ecommerce,
    /// Video on demand.
    VideoOnDemand,
}

impl Domain {
    /// The string Personalize uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ecommerce => "ECOMMERCE",
            Self::VideoOnDemand => "VIDEO_ON_DEMAND",
        }
    }
}

/// The datasets of a dataset group, one per type.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("['USER_ID', 'ITEM_ID', 'TIMESTAMP'].all(r, self.interactions.schema.fields.exists(f, f.name == r))")
        .message("spec.datasets.interactions.schema.fields must include USER_ID, ITEM_ID and TIMESTAMP")
        .field_path(".interactions.schema.fields"),
    validation = Rule::new("!has(self.items) || self.items.schema.fields.exists(f, f.name == 'ITEM_ID')")
        .message("spec.datasets.items.schema.fields must include ITEM_ID")
        .field_path(".items"),
    validation = Rule::new("!has(self.users) || self.users.schema.fields.exists(f, f.name == 'USER_ID')")
        .message("spec.datasets.users.schema.fields must include USER_ID")
        .field_path(".users"),
    validation = Rule::new("!has(self.actions) || self.actions.schema.fields.exists(f, f.name == 'ACTION_ID')")
        .message("spec.datasets.actions.schema.fields must include ACTION_ID")
        .field_path(".actions"),
    validation = Rule::new("!has(self.actionInteractions) || ['USER_ID', 'ACTION_ID', 'TIMESTAMP', 'EVENT_TYPE'].all(r, self.actionInteractions.schema.fields.exists(f, f.name == r))")
        .message("spec.datasets.actionInteractions.schema.fields must include USER_ID, ACTION_ID, TIMESTAMP and EVENT_TYPE")
        .field_path(".actionInteractions")
)]
pub struct Datasets {
    /// The interactions dataset (required): who did what with which item, and when.
    pub interactions: DatasetSpec,
    /// The items dataset: item metadata such as GENRES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<DatasetSpec>,
    /// The users dataset: user metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<DatasetSpec>,
    /// The actions dataset (Next-Best-Action): the actions a user may be recommended, by
    /// ACTION_ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<DatasetSpec>,
    /// The action interactions dataset (Next-Best-Action): who took, viewed or ignored which
    /// action, and when (Personalize's `Action_Interactions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_interactions: Option<DatasetSpec>,
}

/// The dataset types Personalize knows, in the order the operator creates them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum DatasetType {
    /// `Interactions`.
    Interactions,
    /// `Items`.
    Items,
    /// `Users`.
    Users,
    /// `Actions`.
    Actions,
    /// `Action_Interactions`.
    ActionInteractions,
}

impl DatasetType {
    /// Every type, in creation order.
    pub const ALL: [Self; 5] = [
        Self::Interactions,
        Self::Items,
        Self::Users,
        Self::Actions,
        Self::ActionInteractions,
    ];

    /// The `datasetType` value Personalize uses (`Interactions`, `Items`, `Users`, `Actions`,
    /// `Action_Interactions`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interactions => "Interactions",
            Self::Items => "Items",
            Self::Users => "Users",
            Self::Actions => "Actions",
            Self::ActionInteractions => "Action_Interactions",
        }
    }
}

impl Datasets {
    /// The dataset spec of a type, if present.
    pub fn get(&self, kind: DatasetType) -> Option<&DatasetSpec> {
        match kind {
            DatasetType::Interactions => Some(&self.interactions),
            DatasetType::Items => self.items.as_ref(),
            DatasetType::Users => self.users.as_ref(),
            DatasetType::Actions => self.actions.as_ref(),
            DatasetType::ActionInteractions => self.action_interactions.as_ref(),
        }
    }
}

/// One dataset: its schema and, optionally, where to import its data from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetSpec {
    /// The dataset's Avro schema, as a YAML/JSON object
    /// (`{type: record, name: Interactions, namespace: com.amazonaws.personalize.schema,
    /// fields: [{name: USER_ID, type: string}, ...], version: "1.0"}`). Changing it creates a new
    /// schema and points the dataset at it (UpdateDataset), which Personalize allows for
    /// compatible changes.
    pub schema: AvroSchema,
    /// Import of bulk data into this dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportSpec>,
}

/// An Avro record schema, kept exactly as written (Personalize receives it verbatim).
///
/// Admission checks its shape (a `record` with at least one named field); anything else Avro
/// allows is preserved.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(transparent)]
pub struct AvroSchema(pub serde_json::Value);

impl AvroSchema {
    /// The schema as the JSON string Personalize's CreateSchema expects.
    pub fn to_json_string(&self) -> String {
        self.0.to_string()
    }
}

impl JsonSchema for AvroSchema {
    fn schema_name() -> Cow<'static, str> {
        "AvroSchema".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "An Avro record schema: {type: record, name, fields: [{name, type}, ...]}.",
            "x-kubernetes-preserve-unknown-fields": true,
            "required": ["type", "name", "fields"],
            "properties": {
                "type": { "type": "string", "enum": ["record"] },
                "name": { "type": "string", "minLength": 1 },
                "fields": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                        "required": ["name", "type"],
                        "properties": {
                            "name": { "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,149}$" },
                            "type": { "x-kubernetes-preserve-unknown-fields": true }
                        }
                    }
                }
            }
        })
    }
}

/// An import of bulk data from S3 into a dataset.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportSpec {
    /// Where the CSV data is: `s3://bucket/key` or `s3://bucket/prefix/`.
    #[schemars(regex(pattern = r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$"))]
    pub data_location: String,
    /// IAM role Personalize assumes to read the data. Optional: without it Personalize reads
    /// the bucket through the bucket's own policy, which must allow the Personalize service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::ROLE_ARN))]
    pub role_arn: Option<String>,
    /// FULL replaces the dataset's data; INCREMENTAL adds to it.
    #[serde(default)]
    pub mode: ImportMode,
    /// Any string; changing it starts a new import job with the current settings.
    #[serde(default = "default_revision")]
    #[schemars(length(min = 1, max = 63))]
    pub revision: String,
}

fn default_revision() -> String {
    "1".to_owned()
}

/// How an import treats data already in the dataset.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportMode {
    /// Replace the dataset's data.
    #[default]
    Full,
    /// Append to the dataset's data.
    Incremental,
}

impl ImportMode {
    /// The string Personalize uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Incremental => "INCREMENTAL",
        }
    }
}

/// Observed state of a dataset group.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetGroupStatus {
    /// ARN, AWS status, failure reason, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// The datasets as Personalize reports them.
    #[serde(default, skip_serializing_if = "DatasetsStatus::is_empty")]
    pub datasets: DatasetsStatus,
}

/// Observed state of each dataset.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetsStatus {
    /// The interactions dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactions: Option<DatasetStatus>,
    /// The items dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<DatasetStatus>,
    /// The users dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<DatasetStatus>,
    /// The actions dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<DatasetStatus>,
    /// The action interactions dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_interactions: Option<DatasetStatus>,
}

impl DatasetsStatus {
    /// True when no dataset has been observed yet.
    pub fn is_empty(&self) -> bool {
        DatasetType::ALL
            .into_iter()
            .all(|kind| self.get(kind).is_none())
    }

    /// The status of a dataset type, if observed.
    pub fn get(&self, kind: DatasetType) -> Option<&DatasetStatus> {
        match kind {
            DatasetType::Interactions => self.interactions.as_ref(),
            DatasetType::Items => self.items.as_ref(),
            DatasetType::Users => self.users.as_ref(),
            DatasetType::Actions => self.actions.as_ref(),
            DatasetType::ActionInteractions => self.action_interactions.as_ref(),
        }
    }

    /// A mutable slot for a dataset type.
    pub fn slot(&mut self, kind: DatasetType) -> &mut Option<DatasetStatus> {
        match kind {
            DatasetType::Interactions => &mut self.interactions,
            DatasetType::Items => &mut self.items,
            DatasetType::Users => &mut self.users,
            DatasetType::Actions => &mut self.actions,
            DatasetType::ActionInteractions => &mut self.action_interactions,
        }
    }
}

/// Observed state of one dataset.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetStatus {
    /// ARN of the dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Status of the dataset as Personalize reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// ARN of the schema the dataset uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_arn: Option<String>,
    /// The most recent import job started by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_import: Option<ImportStatus>,
}

/// Observed state of an import job.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportStatus {
    /// The `revision` of the import spec this job ran for.
    pub revision: String,
    /// ARN of the dataset import job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_arn: Option<String>,
    /// Status of the job as Personalize reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why the job failed, as Personalize reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// When the job finished successfully (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}
