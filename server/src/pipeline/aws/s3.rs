//! S3 for the AWS adapter: the objects a transform job read and wrote, listed with
//! ListObjectsV2 (which gives each one's size, ETag and modification time) and read one at a
//! time within a bound.

use app::control_plane::PipelineError;
use app::models::pipeline::StoredObject;

use super::errors::{sdk_error, Service};

/// At most this many objects are listed under one prefix.
const MAX_OUTPUT_OBJECTS: usize = 100;

pub(super) struct S3 {
    pub(super) client: aws_sdk_s3::Client,
}

impl S3 {
    /// The objects under an `s3://` prefix, as ListObjectsV2 describes them; none is read.
    pub async fn list_objects(&self, path: &str) -> Result<Vec<StoredObject>, PipelineError> {
        let (bucket, prefix) = split_s3_uri(path)
            .ok_or_else(|| PipelineError::Invalid(format!("{path} is not an s3:// URI.")))?;
        let no_output = || format!("No object found under {path}.");
        let mut objects = Vec::new();
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
            objects.extend(page.contents().iter().filter_map(|o| {
                Some(StoredObject {
                    uri: format!("s3://{bucket}/{}", o.key()?),
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    version: o.e_tag().map(str::to_string),
                    modified: o
                        .last_modified()
                        .map(|t| format!("{}.{:09}", t.secs(), t.subsec_nanos())),
                })
            }));
            match page.next_continuation_token() {
                Some(next) if objects.len() < MAX_OUTPUT_OBJECTS => token = Some(next.to_string()),
                _ => break,
            }
        }
        if objects.is_empty() {
            return Err(PipelineError::NotFound(no_output()));
        }
        objects.truncate(MAX_OUTPUT_OBJECTS);
        Ok(objects)
    }

    /// One object's content if it is at most `limit` bytes. GetObject's `Content-Length` is
    /// checked before any of the body is read, and the body is read a chunk at a time and
    /// given up past `limit`, so an object that is larger (or grew since it was listed) never
    /// sits in memory whole.
    pub async fn read_object(&self, uri: &str, limit: u64) -> Result<String, PipelineError> {
        let (bucket, key) = split_s3_uri(uri)
            .ok_or_else(|| PipelineError::Invalid(format!("{uri} is not an s3:// URI.")))?;
        let object = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
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
        let size = object.content_length().and_then(|l| u64::try_from(l).ok());
        if let Some(size) = size.filter(|s| *s > limit) {
            return Err(too_large(uri, Some(size), limit));
        }
        let mut body = object.body;
        let mut bytes = Vec::with_capacity(size.and_then(|s| usize::try_from(s).ok()).unwrap_or(0));
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                tracing::warn!(%uri, error = %e, "cannot read an object");
                PipelineError::Unavailable(format!(
                    "Gatehouse could not read {uri} from Amazon S3; try again in a moment."
                ))
            })?;
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(too_large(uri, None, limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

fn too_large(uri: &str, size: Option<u64>, limit: u64) -> PipelineError {
    PipelineError::TooLarge(crate::pipeline::too_large_sentence(uri, size, limit))
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
