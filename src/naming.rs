//! Deterministic identity: the AWS names the operator gives resources, derived from the custom
//! resource, and the ownership tag that lets a restarted operator adopt what it created.

/// The tag key that records which custom resource owns an AWS resource.
pub const OWNER_TAG: &str = "personalize-operator.dev/owner";
/// Annotation that lets a CR adopt an existing AWS resource it did not create.
pub const ADOPT_ANNOTATION: &str = "personalize-operator.dev/adopt";
/// Annotation that pauses reconciliation of a CR (`"true"`): no AWS call until it is removed.
pub const PAUSED_ANNOTATION: &str = "personalize-operator.dev/paused";
/// Annotation that makes a CR observe-only (`"true"`): its Personalize resources are found by
/// name, described and reported in status, never created, changed or deleted.
pub const OBSERVE_ANNOTATION: &str = "personalize-operator.dev/observe-only";

/// Longest Personalize resource name.
const MAX_NAME: usize = 63;

/// The AWS name for a CR: `spec.name` when set, else `<namespace>-<name>` made safe for
/// Personalize (letters, digits, `-`, `_`; at most 63 characters, shortened with a hash suffix
/// so different long names stay distinct).
pub fn aws_name(override_name: Option<&str>, namespace: &str, name: &str) -> String {
    if let Some(name) = override_name {
        return name.to_owned();
    }
    bounded(&format!("{namespace}-{name}"))
}

/// A derived name for a child resource (schema, dataset, import job): `<parent>-<suffix>`,
/// bounded like [`aws_name`].
pub fn child_name(parent: &str, suffix: &str) -> String {
    bounded(&format!("{parent}-{suffix}"))
}

/// The owner tag value for a CR.
pub fn owner(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// A short stable hash (FNV-1a, 32 bits as 8 hex digits) of some text.
pub fn short_hash(text: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

fn bounded(raw: &str) -> String {
    let safe: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if safe.len() <= MAX_NAME {
        return safe;
    }
    let hash = short_hash(raw);
    format!("{}-{hash}", &safe[..MAX_NAME - hash.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_a_valid_name_from_namespace_and_name() {
        assert_eq!(aws_name(None, "default", "movielens"), "default-movielens");
        assert_eq!(aws_name(Some("given"), "default", "movielens"), "given");
        assert_eq!(aws_name(None, "ns", "a.b"), "ns-a-b");
    }

    #[test]
    fn long_names_are_shortened_to_63_characters_and_stay_distinct() {
        let a = aws_name(None, "namespace", &"x".repeat(80));
        let b = aws_name(None, "namespace", &format!("{}y", "x".repeat(79)));
        assert_eq!(a.len(), 63);
        assert_eq!(b.len(), 63);
        assert_ne!(a, b);
        assert_eq!(
            a,
            aws_name(None, "namespace", &"x".repeat(80)),
            "deterministic"
        );
    }
}
