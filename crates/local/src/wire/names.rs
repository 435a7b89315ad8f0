//! Names, ARNs and generated ids: validation against the model's patterns and deterministic
//! construction for the configured account and region. Pure functions.
//! Depends only on the AWS error shape.

use crate::wire::error::ApiError;

/// Builds ARNs for one account and region.
#[derive(Clone, Debug)]
pub struct Arns {
    pub account: String,
    pub region: String,
}

impl Arns {
    /// `arn:aws:personalize:<region>:<account>:<kind>/<path>`.
    pub fn make(&self, kind: &str, path: &str) -> String {
        format!(
            "arn:aws:personalize:{}:{}:{kind}/{path}",
            self.region, self.account
        )
    }
}

/// The resource name of a simple ARN (`.../<kind>/<name>`): the part after the first `/`.
pub fn arn_path(arn: &str) -> &str {
    arn.split_once('/').map(|(_, p)| p).unwrap_or("")
}

/// Checks a resource name: 1-63 chars, `^[a-zA-Z0-9][a-zA-Z0-9\-_]*`.
pub fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !first_ok || !rest_ok || name.len() > 63 {
        return Err(ApiError::InvalidInput(format!(
            "Value '{name}' at '{field}' failed to satisfy constraint: Member must have length \
             between 1 and 63 and match pattern ^[a-zA-Z0-9][a-zA-Z0-9\\-_]*"
        )));
    }
    Ok(())
}

/// Checks an ARN member: `arn:([a-z\d-]+):personalize:.*:.*:.+`, at most 256 chars.
pub fn check_arn(field: &str, arn: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = arn.len() <= 256
        && parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[1]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && parts[2] == "personalize"
        && !parts[5].is_empty();
    if !ok {
        return Err(ApiError::InvalidInput(format!(
            "Value '{arn}' at '{field}' failed to satisfy constraint: Member must match pattern \
             arn:([a-z\\d-]+):personalize:.*:.*:.+"
        )));
    }
    Ok(())
}

/// Checks an optional string against a maximum length.
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(ApiError::InvalidInput(format!(
            "Value at '{field}' failed to satisfy constraint: Member must have length between \
             {min} and {max}"
        )));
    }
    Ok(())
}

/// FNV-1a, 64 bit: a stable hash for deterministic ids.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// A deterministic UUID-shaped id derived from `parts`.
pub fn stable_uuid(parts: &[&str]) -> String {
    let a = stable_hash(parts);
    let b = stable_hash(&[&format!("{a:x}"), "2"]);
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_model_pattern() {
        assert!(check_name("name", "movies-1_a").is_ok());
        assert!(check_name("name", "").is_err());
        assert!(check_name("name", "-x").is_err());
        assert!(check_name("name", "a b").is_err());
        assert!(check_name("name", &"a".repeat(64)).is_err());
    }

    #[test]
    fn arns_are_deterministic_and_validated() {
        let arns = Arns {
            account: "000000000000".into(),
            region: "us-east-1".into(),
        };
        let arn = arns.make("dataset-group", "movies");
        assert_eq!(
            arn,
            "arn:aws:personalize:us-east-1:000000000000:dataset-group/movies"
        );
        assert!(check_arn("a", &arn).is_ok());
        assert!(check_arn("a", "arn:aws:personalize:::recipe/aws-sims").is_ok());
        assert!(check_arn("a", "not-an-arn").is_err());
        assert_eq!(arn_path(&arn), "movies");
        assert_eq!(stable_uuid(&["x"]), stable_uuid(&["x"]));
        assert_ne!(stable_uuid(&["x"]), stable_uuid(&["y"]));
    }
}
