//! S3 for the AWS adapter: the objects a transform job read and wrote.

use app::control_plane::PipelineError;
use app::models::pipeline::OutputObject;

use super::errors::{sdk_error, Service};

/// At most this many objects are read under one prefix.
const MAX_OUTPUT_OBJECTS: usize = 100;

pub(super) struct S3 {
    pub(super) client: aws_sdk_s3::Client,
}

impl S3 {
    pub async fn read_objects(&self, path: &str) -> Result<Vec<OutputObject>, PipelineError> {
        let (bucket, prefix) = split_s3_uri(path)
            .ok_or_else(|| PipelineError::Invalid(format!("{path} is not an s3:// URI.")))?;
        let no_output = || format!("No object found under {path}.");
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| sdk_error(Service::S3, "ListObjectsV2", no_output, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match page.next_continuation_token() {
                Some(next) if keys.len() < MAX_OUTPUT_OBJECTS => token = Some(next.to_string()),
                _ => break,
            }
        }
        if keys.is_empty() {
            return Err(PipelineError::NotFound(no_output()));
        }
        keys.truncate(MAX_OUTPUT_OBJECTS);
        let mut objects = Vec::with_capacity(keys.len());
        for key in keys {
            let uri = format!("s3://{bucket}/{key}");
            let object = self
                .client
                .get_object()
                .bucket(bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    sdk_error(
                        Service::S3,
                        "GetObject",
                        || format!("The object {uri} is gone."),
                        e,
                    )
                })?;
            let bytes = object.body.collect().await.map_err(|e| {
                tracing::warn!(%uri, error = %e, "cannot read a transform output object");
                PipelineError::Unavailable(format!(
                    "Gatehouse could not read {uri} from Amazon S3; try again in a moment."
                ))
            })?;
            objects.push(OutputObject {
                uri,
                body: String::from_utf8_lossy(&bytes.into_bytes()).into_owned(),
            });
        }
        Ok(objects)
    }
}

/// `s3://bucket/key` → (`bucket`, `key`).
fn split_s3_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_split_into_bucket_and_key() {
        assert_eq!(
            split_s3_uri("s3://b/transform_output/x"),
            Some(("b", "transform_output/x"))
        );
        assert_eq!(split_s3_uri("s3://b"), Some(("b", "")));
        assert_eq!(split_s3_uri("https://b/x"), None);
    }
}
