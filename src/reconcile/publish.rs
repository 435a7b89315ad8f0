//! Publishing for apps: the values apps need to call Personalize (an ARN, a tracking id) written
//! to a ConfigMap or a Secret in the object's namespace, owned by the object so that it goes
//! away with it. Server-side applied, and re-applied only when the values change or once per
//! resync period (which also restores one deleted by hand).

use std::collections::BTreeMap;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ObjectMeta, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use personalize_api::FIELD_MANAGER;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Context, Error, Managed, namespace};

/// Writes `obj`'s published values to the ConfigMap and Secret its `spec.publish` names.
pub async fn publish<K: Managed>(obj: &K, ctx: &Context, status: &K::Status) -> Result<(), Error> {
    let Some(publish) = obj.publish() else {
        return Ok(());
    };
    let data = obj.published(status);
    if data.is_empty() {
        return Ok(());
    }
    if let Some(name) = &publish.config_map_name {
        apply_owned(obj, ctx, Target::ConfigMap, name, &data).await?;
    }
    if let Some(name) = &publish.secret_name {
        apply_owned(obj, ctx, Target::Secret, name, &data).await?;
    }
    Ok(())
}

/// The `<kind>Arn` key of an object's ARN, e.g. `datasetGroupArn`. Pure.
pub fn arn_key(kind: &str) -> String {
    let mut chars = kind.chars();
    let first = chars.next().map(|c| c.to_ascii_lowercase());
    first
        .into_iter()
        .chain(chars)
        .chain("Arn".chars())
        .collect()
}

/// Which kind of object to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A ConfigMap (`data`).
    ConfigMap,
    /// A Secret (`stringData`).
    Secret,
}

/// Server-side applies a ConfigMap or Secret `name` holding `data`, owned by `obj`, when the
/// data changed or once per resync period.
pub async fn apply_owned<K: Managed>(
    obj: &K,
    ctx: &Context,
    target: Target,
    name: &str,
    data: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let digest: String = data.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let key = format!(
        "{}/{target:?}/{name}/{}",
        obj.uid().unwrap_or_default(),
        crate::naming::short_hash(&digest)
    );
    if !ctx.due(key.clone(), ctx.timing.resync) {
        return Ok(());
    }
    let metadata = owned_meta(obj, name);
    let data = Some(data.clone());
    let written = match target {
        Target::ConfigMap => {
            apply(
                obj,
                ctx,
                name,
                &ConfigMap {
                    metadata,
                    data,
                    ..Default::default()
                },
            )
            .await
        }
        Target::Secret => {
            apply(
                obj,
                ctx,
                name,
                &Secret {
                    metadata,
                    string_data: data,
                    ..Default::default()
                },
            )
            .await
        }
    };
    if written.is_err() {
        ctx.forget(&key);
    }
    written
}

fn owned_meta<K: Resource<DynamicType = ()>>(obj: &K, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        owner_references: obj.controller_owner_ref(&()).map(|o| vec![o]),
        ..Default::default()
    }
}

/// Server-side applies `body` as the object `name` in `obj`'s namespace.
async fn apply<K, T>(obj: &K, ctx: &Context, name: &str, body: &T) -> Result<(), Error>
where
    K: Managed,
    T: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Serialize
        + DeserializeOwned
        + Clone
        + std::fmt::Debug,
{
    let mut value = serde_json::to_value(body).map_err(|e| Error::Waiting(e.to_string()))?;
    value["apiVersion"] = T::api_version(&()).into();
    value["kind"] = T::kind(&()).into();
    let api: Api<T> = Api::namespaced(ctx.kube.clone(), &namespace(obj)?);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(name, &params, &Patch::Apply(&value)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_keys_are_lower_camel_case() {
        assert_eq!(arn_key("DatasetGroup"), "datasetGroupArn");
        assert_eq!(arn_key("Campaign"), "campaignArn");
        assert_eq!(arn_key("EventTracker"), "eventTrackerArn");
    }
}
