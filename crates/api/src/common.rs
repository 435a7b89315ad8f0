//! Types every kind shares: references between CRs, the deletion policy, the status block that
//! mirrors an AWS resource, and the names of conditions and their reasons.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reference to another custom resource of this API by name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// Name of the referenced object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the referenced object. Defaults to the namespace of the referring object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

impl ObjectRef {
    /// The namespace this reference points into, given the namespace of the referring object.
    pub fn namespace_or<'a>(&'a self, own: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(own)
    }
}

/// What happens to the AWS resource when the custom resource is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the AWS resource (in Personalize's dependency order) before the CR goes away.
    #[default]
    Delete,
    /// Leave the AWS resource in place; only the CR is removed.
    Retain,
}

/// Where to publish what apps need to call Personalize (the ARN; an EventTracker's tracking
/// id), for apps that read a ConfigMap or a Secret rather than this object. The ConfigMap or
/// Secret is created in this object's namespace, owned by it (deleted with it) and rewritten when
/// the values change. Keys: `<kind>Arn` (e.g. `campaignArn`, `filterArn`) and `trackingId`.
#[derive(kube::KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("has(self.configMapName) || has(self.secretName)")
    .message("spec.publish needs configMapName or secretName"))]
pub struct Publish {
    /// Name of the ConfigMap to write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = patterns::K8S_NAME))]
    pub config_map_name: Option<String>,
    /// Name of the Secret to write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = patterns::K8S_NAME))]
    pub secret_name: Option<String>,
}

/// AWS tags of the resource, in addition to the ownership tag the operator adds. Changing them
/// tags and untags the resource in place.
pub type Tags = BTreeMap<String, String>;

/// Observed state of the Personalize resource behind a custom resource, common to every kind.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// ARN of the Personalize resource, written as soon as it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Status string exactly as Personalize reports it, e.g. `CREATE IN_PROGRESS` or `ACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why Personalize failed to create or update the resource, as it reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// A hash of the tags last applied to the resource: the operator compares the resource's
    /// tags only when the desired tags hash differently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_applied: Option<String>,
    /// Ready, Synced, Terminal and ReferencesResolved conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl ResourceStatus {
    /// The condition of the given type, if present.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Whether the condition of the given type is present with status `True`.
    pub fn is_true(&self, type_: &str) -> bool {
        self.condition(type_).is_some_and(|c| c.status == "True")
    }
}

/// Condition types written by the operator.
pub mod conditions {
    /// The AWS resource exists, is ACTIVE and matches the spec: dependents may use it.
    pub const READY: &str = "Ready";
    /// The last reconcile brought AWS in line with the spec (False while AWS is mid-transition).
    pub const SYNCED: &str = "Synced";
    /// Nothing more will happen until the spec changes (invalid input, CREATE FAILED, ...).
    pub const TERMINAL: &str = "Terminal";
    /// Every referenced CR or ARN was found and is ready.
    pub const REFERENCES_RESOLVED: &str = "ReferencesResolved";
}

/// Personalize status strings, literal (with spaces) as the API returns them.
pub mod aws_status {
    /// The resource was requested and waits to start.
    pub const CREATE_PENDING: &str = "CREATE PENDING";
    /// The resource is being created.
    pub const CREATE_IN_PROGRESS: &str = "CREATE IN_PROGRESS";
    /// The resource exists and can be used.
    pub const ACTIVE: &str = "ACTIVE";
    /// Creation failed; `failureReason` says why.
    pub const CREATE_FAILED: &str = "CREATE FAILED";
    /// A solution version's training is being stopped.
    pub const CREATE_STOPPING: &str = "CREATE STOPPING";
    /// A solution version's training was stopped.
    pub const CREATE_STOPPED: &str = "CREATE STOPPED";
    /// Deletion was requested.
    pub const DELETE_PENDING: &str = "DELETE PENDING";
    /// The resource is being deleted.
    pub const DELETE_IN_PROGRESS: &str = "DELETE IN_PROGRESS";
    /// A recommender being stopped (asked).
    pub const STOP_PENDING: &str = "STOP PENDING";
    /// A recommender being stopped.
    pub const STOP_IN_PROGRESS: &str = "STOP IN_PROGRESS";
    /// A stopped recommender (not billed, not serving).
    pub const INACTIVE: &str = "INACTIVE";
    /// A recommender being started (asked).
    pub const START_PENDING: &str = "START PENDING";
    /// A recommender being started.
    pub const START_IN_PROGRESS: &str = "START IN_PROGRESS";
}

/// Patterns shared by several kinds' OpenAPI validation.
pub mod patterns {
    /// A Personalize resource name: 1-63 characters, letters, digits, `-` and `_`.
    pub const AWS_NAME: &str = r"^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,62}$";
    /// An AWS region such as `us-east-1` or `eu-central-1`.
    pub const REGION: &str = r"^[a-z]{2}(-[a-z]+)+-[0-9]$";
    /// An IAM role ARN.
    pub const ROLE_ARN: &str = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$";
    /// A KMS key ARN.
    pub const KMS_KEY_ARN: &str = r"^arn:aws[a-z-]*:kms:.*$";
    /// Any Personalize ARN (the region is empty for recipes).
    pub const PERSONALIZE_ARN: &str = r"^arn:aws[a-z-]*:personalize:[a-z0-9-]*:[0-9]*:.+$";
    /// A dataset group ARN.
    pub const DATASET_GROUP_ARN: &str = r"^arn:aws[a-z-]*:personalize:[a-z0-9-]+:[0-9]{12}:dataset-group/[a-zA-Z0-9][a-zA-Z0-9\-_]*$";
    /// A solution version ARN (`solution/<name>/<id>`).
    pub const SOLUTION_VERSION_ARN: &str = r"^arn:aws[a-z-]*:personalize:[a-z0-9-]+:[0-9]{12}:solution/[a-zA-Z0-9][a-zA-Z0-9\-_]*/[a-zA-Z0-9$]+$";
    /// A Kubernetes object name (DNS subdomain).
    pub const K8S_NAME: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
}

use kube::core::Message;

/// CEL rule: a required field may not change once created.
pub(crate) fn immutable(path: &str) -> kube::core::Rule {
    kube::core::Rule::new("self == oldSelf")
        .message(Message::Message(format!("{path} is immutable")))
}

/// CEL rule, placed on the parent object: an optional field may not be added, changed or removed
/// after creation. (A rule on the field itself would not see it being added or removed.)
pub(crate) fn immutable_optional(field: &str, path: &str) -> kube::core::Rule {
    kube::core::Rule::new(format!(
        "has(self.{field}) == has(oldSelf.{field}) && (!has(self.{field}) || self.{field} == oldSelf.{field})"
    ))
    .message(Message::Message(format!(
        "{path} is immutable: it cannot be added, changed or removed after creation"
    )))
    .field_path(format!(".{field}"))
}

/// The CEL rules of a version policy (`solutionRef`, `versionPolicy`, `solutionVersionArn`), as
/// Campaign and the batch jobs select their solution version.
pub(crate) mod version_rules {
    use kube::core::Rule;

    /// A Solution or a pinned version.
    pub fn some_solution() -> Rule {
        Rule::new("has(self.solutionRef) || has(self.solutionVersionArn)")
            .message("one of spec.solutionRef and spec.solutionVersionArn must be set")
    }

    /// Pinned needs the version.
    pub fn pinned_needs_arn() -> Rule {
        Rule::new("self.versionPolicy != 'Pinned' || has(self.solutionVersionArn)")
            .message("spec.solutionVersionArn is required when spec.versionPolicy is Pinned")
            .field_path(".versionPolicy")
    }

    /// The version only with Pinned.
    pub fn arn_only_when_pinned() -> Rule {
        Rule::new("!has(self.solutionVersionArn) || self.versionPolicy == 'Pinned'")
            .message("spec.solutionVersionArn is only used with spec.versionPolicy: Pinned")
            .field_path(".solutionVersionArn")
    }

    /// Latest and Promoted read the Solution.
    pub fn policy_needs_solution() -> Rule {
        Rule::new("self.versionPolicy == 'Pinned' || has(self.solutionRef)")
            .message("spec.versionPolicy Latest or Promoted needs spec.solutionRef")
            .field_path(".versionPolicy")
    }

    /// At most one filter.
    pub fn one_filter() -> Rule {
        Rule::new("!(has(self.filterRef) && has(self.filterArn))")
            .message("at most one of spec.filterRef and spec.filterArn may be set")
            .field_path(".filterRef")
    }
}
