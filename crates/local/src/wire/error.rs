//! The one error type of the server and its mapping to AWS error responses.
//!
//! Every handler returns [`ApiError`]; [`ApiError::into_response`] is the only place that turns it
//! into HTTP (status code, `{"__type", "message"}` body, `x-amzn-errortype` header). Depends on
//! nothing but axum and serde_json.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// Which wire protocol the failing request used: it decides the status codes of client errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// AWS JSON 1.1 (the control plane): every client error is HTTP 400.
    AwsJson,
    /// REST JSON (events, runtime): status codes as the service models declare them.
    RestJson,
}

/// A failed request, named after the AWS error code it becomes.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    InUse(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    InvalidNextToken(String),
    #[error("{0}")]
    TooManyTags(String),
    #[error("{0}")]
    TooManyTagKeys(String),
    /// The body is not JSON at all.
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Throttling(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    MissingAuthenticationToken(String),
    /// The Authorization header lacks a component or the date header.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The access key is not one the server knows.
    #[error("{0}")]
    UnrecognizedClient(String),
    /// A model constraint violated by an operation that does not model `InvalidInputException`.
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The AWS error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidInput(_) => "InvalidInputException",
            ApiError::NotFound(_) => "ResourceNotFoundException",
            ApiError::AlreadyExists(_) => "ResourceAlreadyExistsException",
            ApiError::InUse(_) => "ResourceInUseException",
            ApiError::LimitExceeded(_) => "LimitExceededException",
            ApiError::InvalidNextToken(_) => "InvalidNextTokenException",
            ApiError::TooManyTags(_) => "TooManyTagsException",
            ApiError::TooManyTagKeys(_) => "TooManyTagKeysException",
            ApiError::Serialization(_) => "SerializationException",
            ApiError::UnknownOperation(_) => "UnknownOperationException",
            ApiError::Throttling(_) => "ThrottlingException",
            ApiError::PayloadTooLarge(_) => "RequestEntityTooLargeException",
            ApiError::InvalidSignature(_) => "InvalidSignatureException",
            ApiError::MissingAuthenticationToken(_) => "MissingAuthenticationTokenException",
            ApiError::IncompleteSignature(_) => "IncompleteSignatureException",
            ApiError::UnrecognizedClient(_) => "UnrecognizedClientException",
            ApiError::Validation(_) => "ValidationException",
            ApiError::ServiceUnavailable(_) => "ServiceUnavailable",
            ApiError::Internal(_) => "InternalFailure",
        }
    }

    /// The HTTP status for this error under `protocol`.
    pub fn status(&self, protocol: Protocol) -> StatusCode {
        match self {
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidSignature(_)
            | ApiError::MissingAuthenticationToken(_)
            | ApiError::IncompleteSignature(_)
            | ApiError::UnrecognizedClient(_) => StatusCode::FORBIDDEN,
            ApiError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound(_) if protocol == Protocol::RestJson => StatusCode::NOT_FOUND,
            ApiError::InUse(_) if protocol == Protocol::RestJson => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether this is the server's fault (5xx), for metrics and logs.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self,
            ApiError::ServiceUnavailable(_) | ApiError::Internal(_)
        )
    }

    /// The AWS error body: `{"__type", "message"}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "__type": self.code(), "message": self.to_string() }).to_string()
    }

    /// The AWS error response: status, `x-amzn-errortype`, `{"__type", "message"}`.
    pub fn into_response(self, protocol: Protocol) -> Response {
        let code = self.code();
        let body = self.body();
        let mut response = Response::new(axum::body::Body::from(body));
        *response.status_mut() = self.status(protocol);
        let headers = response.headers_mut();
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(match protocol {
                Protocol::AwsJson => "application/x-amz-json-1.1",
                Protocol::RestJson => "application/json",
            }),
        );
        response
    }

    /// `ResourceNotFoundException` for an ARN.
    pub fn not_found(arn: &str) -> ApiError {
        ApiError::NotFound(format!("Could not find resource with ARN {arn}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_json_maps_not_found_and_in_use_to_their_modelled_codes() {
        assert_eq!(
            ApiError::not_found("x").status(Protocol::RestJson),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::not_found("x").status(Protocol::AwsJson),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ApiError::InUse(String::new()).status(Protocol::RestJson),
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::Internal(String::new()).status(Protocol::AwsJson),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
