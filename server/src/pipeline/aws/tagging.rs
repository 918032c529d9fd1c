//! The tags the pipeline writes on what it creates, read through the Resource Groups Tagging
//! API: GetResources filtered by the `gatehouse:commit` key (and value, for one commit) and
//! by SageMaker resource type answers up to 100 tagged resources per call, where SageMaker's
//! own ListTags would cost one call per resource.
//!
//! Costs: one GetResources per 100 resources found. An answer is kept for [`TAGS_TTL`]: tags
//! are written when the pipeline creates a resource and not changed after, so what a kept
//! answer can miss is a resource created since, and lineage then reads that resource's name
//! (the pipeline names everything after its commit) until the answer is read again.
//!
//! What the real service does that matters here: GetResources returns resources that are or
//! were tagged; it is eventually consistent (a tag written a moment ago may not be listed
//! yet); and it needs the `tag:GetResources` permission, not a SageMaker one.

use std::time::Duration;

use app::control_plane::PipelineError;
use app::models::commit_tags::{CommitTag, CommitTags, ResourceKind, COMMIT_TAG};
use aws_sdk_resourcegroupstagging::types::TagFilter;

use super::cache::Cache;
use super::errors::{sdk_error, Service};

/// How long an answer of GetResources is reused.
pub const TAGS_TTL: Duration = Duration::from_secs(60);
/// Resources per GetResources page (the API's most).
const PER_PAGE: i32 = 100;

/// What was asked: the kinds, and the commit when only its resources were.
type Query = (Vec<ResourceKind>, Option<String>);

pub(super) struct Tagging {
    client: aws_sdk_resourcegroupstagging::Client,
    answers: Cache<Query, CommitTags>,
}

impl Tagging {
    pub(super) fn new(client: aws_sdk_resourcegroupstagging::Client) -> Tagging {
        Tagging {
            client,
            answers: Cache::new(256, Some(TAGS_TTL)),
        }
    }

    pub(super) async fn commit_tags(
        &self,
        kinds: &[ResourceKind],
        commit: Option<&str>,
    ) -> Result<CommitTags, PipelineError> {
        let mut kinds = kinds.to_vec();
        kinds.sort();
        kinds.dedup();
        if kinds.is_empty() {
            return Ok(CommitTags::default());
        }
        let query: Query = (kinds, commit.map(str::to_string));
        if let Some(kept) = self.answers.get(&query) {
            return Ok(kept);
        }
        let filter = TagFilter::builder()
            .key(COMMIT_TAG)
            .set_values(commit.map(|c| vec![c.to_string()]))
            .build();
        let types: Vec<String> = query
            .0
            .iter()
            .map(|k| format!("sagemaker:{}", k.arn_type()))
            .collect();
        let mut tags = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .get_resources()
                .tag_filters(filter.clone())
                .set_resource_type_filters(Some(types.clone()))
                .resources_per_page(PER_PAGE)
                .set_pagination_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    sdk_error(
                        Service::Tagging,
                        "GetResources",
                        || "The tagged resources could not be listed.".to_string(),
                        e,
                    )
                })?;
            for mapping in page.resource_tag_mapping_list() {
                let value = mapping
                    .tags()
                    .iter()
                    .find(|t| t.key() == COMMIT_TAG)
                    .map(|t| t.value());
                let tag = match (mapping.resource_arn(), value) {
                    (Some(arn), Some(value)) => CommitTag::from_arn(arn, value),
                    _ => None,
                };
                // The type filter already holds the answer to these kinds; an ARN of another
                // kind would be the service's mistake, and is not ours to trace.
                if let Some(tag) = tag.filter(|t| query.0.contains(&t.kind)) {
                    tags.push(tag);
                }
            }
            // The last page has an empty token (or none).
            match page.pagination_token().filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        let answer = CommitTags::new(tags);
        self.answers.insert(query, answer.clone());
        Ok(answer)
    }
}
