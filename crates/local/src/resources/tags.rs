//! Tags: TagResource, UntagResource, ListTagsForResource, and tags given on Create.
//! Depends on the store and the wire layer; never on the router.

use crate::resources::AppState;
use crate::resources::shapes::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, TagResourceRequest,
    UntagResourceRequest,
};
use crate::store::model::Tag;
use crate::store::{Entry, Store};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_len};

/// Most tags one resource may carry.
pub const MAX_TAGS: usize = 50;

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

/// The tags of resource `arn`, or `ResourceNotFoundException` when there is no such resource.
fn tags_of(store: &Store, arn: &str) -> Result<Vec<Tag>, ApiError> {
    if store.resource(arn).is_none() {
        return Err(ApiError::not_found(arn));
    }
    Ok(store.tags.get(arn).cloned().unwrap_or_default())
}

pub fn tag(state: &AppState, req: TagResourceRequest) -> Result<Empty, ApiError> {
    check_arn("resourceArn", &req.resource_arn)?;
    check(&req.tags)?;
    change_tags(state, req.resource_arn, |tags| {
        for tag in req.tags {
            match tags.iter_mut().find(|t| t.tag_key == tag.tag_key) {
                Some(existing) => existing.tag_value = tag.tag_value,
                None => tags.push(tag),
            }
        }
        check(tags)
    })
}

/// Applies `change` to the tags of resource `arn` and stores them.
fn change_tags(
    state: &AppState,
    arn: String,
    change: impl FnOnce(&mut Vec<Tag>) -> Result<(), ApiError>,
) -> Result<Empty, ApiError> {
    let mut store = state.lock();
    let mut tags = tags_of(&store, &arn)?;
    change(&mut tags)?;
    store.commit(Entry::Tags { arn, tags });
    Ok(Empty {})
}

pub fn untag(state: &AppState, req: UntagResourceRequest) -> Result<Empty, ApiError> {
    check_arn("resourceArn", &req.resource_arn)?;
    if req.tag_keys.len() > MAX_TAGS {
        return Err(ApiError::TooManyTagKeys(format!(
            "At most {MAX_TAGS} tag keys per request"
        )));
    }
    change_tags(state, req.resource_arn, |tags| {
        tags.retain(|t| !req.tag_keys.contains(&t.tag_key));
        Ok(())
    })
}

pub fn list(
    state: &AppState,
    req: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse, ApiError> {
    check_arn("resourceArn", &req.resource_arn)?;
    let tags = tags_of(&state.lock(), &req.resource_arn)?;
    Ok(ListTagsForResourceResponse { tags })
}
