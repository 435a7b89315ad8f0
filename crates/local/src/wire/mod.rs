//! The wire layer: what every operation shares on the way in and out (JSON decoding and encoding,
//! the AWS error shape, paging, input names and ARNs, SigV4, the official service models and the
//! validation of every input against them), plus the request metrics and fault
//! injection the pipeline applies, and signed outgoing calls (S3, CloudWatch). Must not depend on the store, the resources or the router.

pub mod codec;
pub mod error;
pub mod faults;
pub mod metrics;
pub mod model;
pub mod names;
pub mod outgoing;
pub mod paging;
pub mod record;
pub mod sigv4;
