//! The operator's window on AWS: Personalize clients per region, and AWS errors classified into
//! the few kinds the reconcilers act on. SDK error types do not leak past this module.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_personalize::error::{ProvideErrorMetadata, SdkError};

/// What a failed AWS call means for a reconciler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The resource does not exist: create it (or, when deleting, it is gone).
    NotFound,
    /// A resource of that name exists: adopt it if it is ours.
    AlreadyExists,
    /// Dependents or in-flight work block the call: wait and retry.
    InUse,
    /// The request is invalid: nothing will change until the spec does.
    InvalidInput,
    /// Throttled or over a limit: retry with backoff.
    Throttled,
    /// Anything else (network, 5xx, access denied): retry with backoff.
    Other,
}

impl ErrorKind {
    /// A low-cardinality label for metrics and condition reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "NotFound",
            Self::AlreadyExists => "AlreadyExists",
            Self::InUse => "InUse",
            Self::InvalidInput => "InvalidInput",
            Self::Throttled => "Throttled",
            Self::Other => "Other",
        }
    }

    /// Classifies an AWS error code (`__type`).
    pub fn from_code(code: &str) -> Self {
        match code {
            "ResourceNotFoundException" => Self::NotFound,
            "ResourceAlreadyExistsException" => Self::AlreadyExists,
            "ResourceInUseException" => Self::InUse,
            "InvalidInputException"
            | "ValidationException"
            | "InvalidNextTokenException"
            | "TooManyTagsException"
            | "TooManyTagKeysException" => Self::InvalidInput,
            "LimitExceededException" | "ThrottlingException" | "TooManyRequestsException" => {
                Self::Throttled
            }
            _ => Self::Other,
        }
    }
}

/// A failed Personalize call.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct AwsError {
    /// The API operation, e.g. `CreateCampaign`.
    pub operation: &'static str,
    /// What it means for the reconciler.
    pub kind: ErrorKind,
    /// The AWS error code, or a description of a transport failure.
    pub code: String,
    /// The AWS error message.
    pub message: String,
}

impl AwsError {
    /// True when the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// Turns an SDK result into one with an [`AwsError`] naming the operation.
pub trait AwsResultExt<T> {
    /// Classifies the error of an AWS call.
    fn aws(self, operation: &'static str) -> Result<T, AwsError>;
}

impl<T, E, R> AwsResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn aws(self, operation: &'static str) -> Result<T, AwsError> {
        let metrics = crate::metrics::global();
        if self.is_ok() {
            metrics.aws_call(operation, "ok");
        }
        self.map_err(|err| {
            let (code, message) = match err.as_service_error() {
                Some(service) => (
                    service.code().unwrap_or("Unknown").to_owned(),
                    service.message().unwrap_or_default().to_owned(),
                ),
                None => ("RequestFailed".to_owned(), describe_chain(&err)),
            };
            let kind = ErrorKind::from_code(&code);
            metrics.aws_call(operation, kind.as_str());
            AwsError {
                operation,
                kind,
                code,
                message,
            }
        })
    }
}

/// The messages of an error and its sources, joined: transport errors hide the cause deep down.
fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}

/// Personalize clients, one per region, sharing the credentials and endpoint configuration
/// loaded from the standard chain (env, profile, IRSA web identity; `AWS_ENDPOINT_URL*`).
pub struct Clients {
    base: aws_config::SdkConfig,
    by_region: Mutex<HashMap<String, aws_sdk_personalize::Client>>,
}

impl Clients {
    /// Clients built from an already-loaded SDK configuration.
    pub fn new(base: aws_config::SdkConfig) -> Self {
        Self {
            base,
            by_region: Mutex::default(),
        }
    }

    /// Loads the standard AWS configuration chain.
    pub async fn from_env() -> Self {
        Self::new(aws_config::load_from_env().await)
    }

    /// The default region (from the environment or profile), if any.
    pub fn default_region(&self) -> Option<String> {
        self.base.region().map(ToString::to_string)
    }

    /// The client for a region (`None`: the default region).
    pub fn personalize(&self, region: Option<&str>) -> aws_sdk_personalize::Client {
        let Some(region) = region else {
            return aws_sdk_personalize::Client::new(&self.base);
        };
        let mut clients = self.by_region.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = aws_sdk_personalize::config::Builder::from(&self.base)
                    .region(aws_config::Region::new(region.to_owned()))
                    .build();
                aws_sdk_personalize::Client::from_conf(config)
            })
            .clone()
    }
}

/// The region of a Personalize ARN (`arn:aws:personalize:<region>:...`), if it names one.
pub fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// The last path segment of an ARN (a solution version's short id).
pub fn short_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_modelled_personalize_errors() {
        assert_eq!(
            ErrorKind::from_code("ResourceNotFoundException"),
            ErrorKind::NotFound
        );
        assert_eq!(
            ErrorKind::from_code("ResourceInUseException"),
            ErrorKind::InUse
        );
        assert_eq!(
            ErrorKind::from_code("LimitExceededException"),
            ErrorKind::Throttled
        );
        assert_eq!(
            ErrorKind::from_code("InvalidInputException"),
            ErrorKind::InvalidInput
        );
        assert_eq!(ErrorKind::from_code("InternalFailure"), ErrorKind::Other);
    }

    #[test]
    fn reads_region_and_short_id_from_arns() {
        let arn = "arn:aws:personalize:eu-west-1:123456789012:solution/s/abc123";
        assert_eq!(region_of(arn), Some("eu-west-1"));
        assert_eq!(short_id(arn), "abc123");
        assert_eq!(region_of("arn:aws:personalize:::recipe/aws-sims"), None);
    }
}
