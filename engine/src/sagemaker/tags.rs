//! Tags on SageMaker resources: every Create* call accepts `Tags`, `AddTags` adds or
//! overwrites them, `ListTags` reads them. As in SageMaker, Describe calls never show
//! tags. They are stored beside the resource, keyed by its ARN, and removed with it.

use super::{
    LocalSageMaker, SageMakerError, ENDPOINT, ENDPOINT_CONFIG, MODEL, TRAINING_JOB, TRANSFORM_JOB,
};
use serde_json::{json, Value};

const TAGS: &str = "tags";
/// SageMaker's limit of tags per resource.
const MAX_TAGS: usize = 50;

/// One `{Key, Value}` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }

    fn to_json(&self) -> Value {
        json!({"Key": self.key, "Value": self.value})
    }
}

/// Characters SageMaker allows in tag keys and values: letters, digits, white space and
/// `_ . : / = + - @`.
fn allowed(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

fn check(tag: &Tag) -> Result<(), SageMakerError> {
    let key_len = tag.key.chars().count();
    if key_len == 0 || key_len > 128 || !allowed(&tag.key) {
        return Err(SageMakerError::validation(format!(
            "1 validation error detected: Value '{}' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128 and satisfy regular expression pattern: ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$",
            tag.key
        )));
    }
    if tag.value.chars().count() > 256 || !allowed(&tag.value) {
        return Err(SageMakerError::validation(format!(
            "1 validation error detected: Value '{}' at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256 and satisfy regular expression pattern: ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$",
            tag.value
        )));
    }
    if tag.key.to_ascii_lowercase().starts_with("aws:") {
        return Err(SageMakerError::validation(format!(
            "Tag keys beginning with 'aws:' are reserved for AWS use: '{}'.",
            tag.key
        )));
    }
    Ok(())
}

/// Parses a request's `Tags` array (`[{"Key", "Value"}]`), checking each tag.
pub fn parse_tags(tags: &Value) -> Result<Vec<Tag>, SageMakerError> {
    let items = match tags {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(SageMakerError::validation(format!(
                "Tags must be a list of {{\"Key\", \"Value\"}} objects, found {other}"
            )))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let key = item
            .get("Key")
            .and_then(Value::as_str)
            .ok_or_else(|| SageMakerError::validation(format!("Tag {item} has no string 'Key'")))?;
        let value = match item.get("Value") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(SageMakerError::validation(format!(
                    "The value of tag '{key}' must be a string, found {other}"
                )))
            }
        };
        let tag = Tag::new(key, value);
        check(&tag)?;
        out.push(tag);
    }
    if out.len() > MAX_TAGS {
        return Err(SageMakerError::validation(format!(
            "A resource can have at most {MAX_TAGS} tags; the request has {}.",
            out.len()
        )));
    }
    Ok(out)
}

/// Removes `Tags` from a Create* request body and returns them, checked.
pub(super) fn take_tags(body: &mut Value) -> Result<Vec<Tag>, SageMakerError> {
    let tags = body
        .as_object_mut()
        .and_then(|map| map.remove("Tags"))
        .unwrap_or(Value::Null);
    parse_tags(&tags)
}

/// The `[{"Key", "Value"}]` array SageMaker returns.
pub fn tags_to_json(tags: &[Tag]) -> Value {
    Value::Array(tags.iter().map(Tag::to_json).collect())
}

impl LocalSageMaker {
    /// The kind and name of the resource an ARN of this local SageMaker names.
    fn resource_of_arn(&self, arn: &str) -> Result<(&'static str, String), SageMakerError> {
        let missing = || SageMakerError::validation(format!("Could not find resource \"{arn}\"."));
        let prefix = format!("arn:aws:sagemaker:local:{}:", self.account);
        let rest = arn.strip_prefix(&prefix).ok_or_else(missing)?;
        let (kind, name) = rest.split_once('/').ok_or_else(missing)?;
        let kind = [
            TRAINING_JOB,
            MODEL,
            TRANSFORM_JOB,
            ENDPOINT_CONFIG,
            ENDPOINT,
        ]
        .into_iter()
        .find(|k| *k == kind)
        .ok_or_else(missing)?;
        // ARNs carry the name in lower case; SageMaker names are unique regardless of case.
        if self.store.resource(kind, name)?.is_some() {
            return Ok((kind, name.to_string()));
        }
        let field = match kind {
            TRAINING_JOB => "TrainingJobName",
            MODEL => "ModelName",
            TRANSFORM_JOB => "TransformJobName",
            ENDPOINT_CONFIG => "EndpointConfigName",
            _ => "EndpointName",
        };
        self.store
            .resources(kind)?
            .iter()
            .filter_map(|r| r[field].as_str())
            .find(|n| n.eq_ignore_ascii_case(name))
            .map(|n| (kind, n.to_string()))
            .ok_or_else(missing)
    }

    /// AddTags: adds tags to a resource, overwriting the value of a key it already has.
    /// Returns the tags added.
    pub fn add_tags(&self, resource_arn: &str, tags: &[Tag]) -> Result<Vec<Tag>, SageMakerError> {
        self.resource_of_arn(resource_arn)?;
        for tag in tags {
            check(tag)?;
        }
        let mut current = self.list_tags(resource_arn)?;
        for tag in tags {
            match current.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value.clone(),
                None => current.push(tag.clone()),
            }
        }
        if current.len() > MAX_TAGS {
            return Err(SageMakerError::validation(format!(
                "A resource can have at most {MAX_TAGS} tags; {resource_arn} would have {}.",
                current.len()
            )));
        }
        let key = resource_arn.to_lowercase();
        let body = tags_to_json(&current);
        if !self.store.update_resource(TAGS, &key, &body)? {
            self.store
                .insert_resource(TAGS, &key, &body, self.now_ms())?;
        }
        self.notify();
        Ok(tags.to_vec())
    }

    /// ListTags: the tags of a resource, in the order they were first added.
    pub fn list_tags(&self, resource_arn: &str) -> Result<Vec<Tag>, SageMakerError> {
        self.resource_of_arn(resource_arn)?;
        let stored = self
            .store
            .resource(TAGS, &resource_arn.to_lowercase())?
            .unwrap_or(Value::Null);
        parse_tags(&stored)
    }

    /// The resources carrying tag `key` (with `value`, when given), each as its ARN and the
    /// tag's value: what the Resource Groups Tagging API's GetResources answers for a tag
    /// filter, for this SageMaker's resources.
    pub fn tagged_with(
        &self,
        key: &str,
        value: Option<&str>,
    ) -> Result<Vec<(String, String)>, SageMakerError> {
        let mut out = Vec::new();
        for (arn, stored) in self.store.named_resources(TAGS)? {
            let found = parse_tags(&stored)?
                .into_iter()
                .find(|t| t.key == key && value.is_none_or(|v| t.value == v));
            if let Some(tag) = found {
                out.push((arn, tag.value));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Forgets the tags of a deleted resource.
    pub(super) fn drop_tags(&self, kind: &str, name: &str) -> Result<(), SageMakerError> {
        self.store
            .delete_resource(TAGS, &self.arn(kind, name).to_lowercase())?;
        Ok(())
    }

    /// The JSON answer of AddTags / ListTags through a Task state.
    pub(super) fn tags_request(
        &self,
        action: &str,
        params: &Value,
    ) -> Result<Value, SageMakerError> {
        let arn = super::required(params, "ResourceArn")?;
        match action {
            "addTags" => {
                let tags = parse_tags(params.get("Tags").unwrap_or(&Value::Null))?;
                if tags.is_empty() {
                    return Err(SageMakerError::validation(
                        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
                    ));
                }
                let added = self.add_tags(arn, &tags)?;
                Ok(json!({"Tags": tags_to_json(&added)}))
            }
            _ => Ok(json!({"Tags": tags_to_json(&self.list_tags(arn)?)})),
        }
    }
}
