//! JSON request decoding and response encoding for every operation, and the typed-handler
//! adapter. Depends only on serde and the AWS error shape.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::wire::error::ApiError;

/// The operation's answer: a JSON body (empty for REST JSON operations without output).
pub type OpResult = Result<Vec<u8>, ApiError>;

/// Decodes a JSON request body into the operation's input shape.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        Category::Data => ApiError::InvalidInput(format!("Invalid request: {e}")),
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::Serialization(format!("Malformed JSON request body: {e}"))
        }
    })
}

/// Encodes an operation's output.
pub fn encode<T: Serialize>(output: &T) -> OpResult {
    serde_json::to_vec(output).map_err(|e| ApiError::Internal(format!("encoding response: {e}")))
}

/// Runs a typed synchronous handler on a raw body.
pub fn run<S, I: DeserializeOwned, O: Serialize>(
    state: &S,
    body: &[u8],
    handler: fn(&S, I) -> Result<O, ApiError>,
) -> OpResult {
    let input: I = decode(body)?;
    encode(&handler(state, input)?)
}

/// An empty output (`{}`), for operations the model gives no output shape.
#[derive(Serialize)]
pub struct Empty {}
