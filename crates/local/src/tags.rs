//! Tags: TagResource, UntagResource, ListTagsForResource, and tags given on Create.

use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::names::{check_arn, check_len};
use crate::protocol::Empty;
use crate::store::{Entry, Store};

/// Most tags one resource may carry.
pub const MAX_TAGS: usize = 50;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

/// Validates tags given on a create call.
pub fn check(tags: &[Tag]) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::TooManyTags(format!(
            "A resource can have at most {MAX_TAGS} tags"
        )));
    }
    for tag in tags {
        check_len("tagKey", &tag.tag_key, 1, 128)?;
        check_len("tagValue", &tag.tag_value, 0, 256)?;
        if tag.tag_key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::InvalidInput(
                "Tag keys starting with aws: are reserved".into(),
            ));
        }
    }
    Ok(())
}

/// Stores the tags given on a create call (validated with [`check`] first).
pub fn set_on_create(store: &mut Store, arn: &str, tags: Option<Vec<Tag>>) {
    if let Some(tags) = tags.filter(|t| !t.is_empty()) {
        store.commit(Entry::Tags {
            arn: arn.to_string(),
            tags,
        });
    }
}

fn exists(store: &Store, arn: &str) -> bool {
    store.resource(arn).is_some()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceRequest {
    pub resource_arn: String,
    pub tags: Vec<Tag>,
}

pub fn tag(state: &AppState, req: TagResourceRequest) -> Result<Empty, ApiError> {
    check_arn("resourceArn", &req.resource_arn)?;
    check(&req.tags)?;
    let mut store = state.lock();
    if !exists(&store, &req.resource_arn) {
        return Err(ApiError::not_found(&req.resource_arn));
    }
    let mut tags = store
        .tags
        .get(&req.resource_arn)
        .cloned()
        .unwrap_or_default();
    for tag in req.tags {
        match tags.iter_mut().find(|t| t.tag_key == tag.tag_key) {
            Some(existing) => existing.tag_value = tag.tag_value,
            None => tags.push(tag),
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(ApiError::TooManyTags(format!(
            "A resource can have at most {MAX_TAGS} tags"
        )));
    }
    store.commit(Entry::Tags {
        arn: req.resource_arn,
        tags,
    });
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceRequest {
    pub resource_arn: String,
    pub tag_keys: Vec<String>,
}

pub fn untag(state: &AppState, req: UntagResourceRequest) -> Result<Empty, ApiError> {
    check_arn("resourceArn", &req.resource_arn)?;
    if req.tag_keys.len() > MAX_TAGS {
        return Err(ApiError::TooManyTagKeys(format!(
            "At most {MAX_TAGS} tag keys per request"
        )));
    }
    let mut store = state.lock();
    if !exists(&store, &req.resource_arn) {
        return Err(ApiError::not_found(&req.resource_arn));
    }
    let mut tags = store
        .tags
        .get(&req.resource_arn)
        .cloned()
        .unwrap_or_default();
    tags.retain(|t| !req.tag_keys.contains(&t.tag_key));
    store.commit(Entry::Tags {
        arn: req.resource_arn,
        tags,
    });
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceRequest {
    pub resource_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceResponse {
    pub tags: Vec<Tag>,
}

pub fn list(
    state: &AppState,
    req: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse, ApiError> {
    check_arn("resourceArn", &req.resource_arn)?;
    let store = state.lock();
    if !exists(&store, &req.resource_arn) {
        return Err(ApiError::not_found(&req.resource_arn));
    }
    Ok(ListTagsForResourceResponse {
        tags: store
            .tags
            .get(&req.resource_arn)
            .cloned()
            .unwrap_or_default(),
    })
}
