//! Tags the operator puts on what it creates, and the adoption rule: an existing AWS resource of
//! the derived name is taken over only if its owner tag names this CR, or the CR asks to adopt.

use aws_sdk_personalize::types::Tag;
use kube::{Resource, ResourceExt};

use crate::aws::{AwsError, AwsResultExt};
use crate::naming::{ADOPT_ANNOTATION, OWNER_TAG, owner};

/// The tags for a resource created for `obj`: the owner tag plus the spec's tags.
pub fn tags<K: Resource>(obj: &K, spec_tags: &personalize_api::common::Tags) -> Vec<Tag> {
    let owner_tag = (
        OWNER_TAG.to_owned(),
        owner(&obj.namespace().unwrap_or_default(), &obj.name_any()),
    );
    std::iter::once(owner_tag)
        .chain(spec_tags.iter().map(|(k, v)| (k.clone(), v.clone())))
        .filter_map(|(key, value)| Tag::builder().tag_key(key).tag_value(value).build().ok())
        .collect()
}

/// Whether `obj` may take over the existing resource `arn`.
pub async fn may_adopt<K: Resource>(
    client: &aws_sdk_personalize::Client,
    obj: &K,
    arn: &str,
) -> Result<bool, AwsError> {
    if obj
        .annotations()
        .get(ADOPT_ANNOTATION)
        .is_some_and(|v| v == "true")
    {
        return Ok(true);
    }
    let want = owner(&obj.namespace().unwrap_or_default(), &obj.name_any());
    let tags = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .aws("ListTagsForResource")?;
    Ok(tags
        .tags()
        .iter()
        .any(|t| t.tag_key() == OWNER_TAG && t.tag_value() == want))
}

/// The message of the Terminal condition when a name is taken by someone else's resource.
pub fn name_taken(kind: &str, name: &str) -> String {
    format!(
        "a Personalize {kind} named {name:?} already exists and is not owned by this object; \
         set spec.name to another name, or annotate the object with {ADOPT_ANNOTATION}=\"true\" to adopt it"
    )
}

/// The ARN of a sibling resource in the same account and region as `arn`:
/// `arn:aws:personalize:<region>:<account>:<path>`.
pub fn sibling_arn(arn: &str, path: &str) -> String {
    let prefix: Vec<&str> = arn.splitn(6, ':').take(5).collect();
    format!("{}:{path}", prefix.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_arns_share_partition_region_and_account() {
        let group = "arn:aws:personalize:us-east-1:000000000000:dataset-group/g";
        assert_eq!(
            sibling_arn(group, "schema/g-interactions"),
            "arn:aws:personalize:us-east-1:000000000000:schema/g-interactions"
        );
    }
}
