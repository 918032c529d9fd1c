//! Which commit a SageMaker resource the pipeline made belongs to. The pipeline tags
//! everything it creates with `gatehouse:commit`; the seed article's pipeline tags nothing
//! and names each resource after the commit ID instead (`<sha8>-<build time>`). Lineage
//! reads the tag first and the name only when the resource has no tag, so runs of both
//! definitions trace, and a resource tagged with one commit is never credited to another
//! because of its name.

use serde::{Deserialize, Serialize};

use super::commit::Commit;

/// The tag key naming the commit a resource was made from.
pub const COMMIT_TAG: &str = "gatehouse:commit";

/// The kinds of resource the pipeline makes from a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceKind {
    TrainingJob,
    Model,
    TransformJob,
    EndpointConfig,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 4] = [
        ResourceKind::TrainingJob,
        ResourceKind::Model,
        ResourceKind::TransformJob,
        ResourceKind::EndpointConfig,
    ];

    /// The resource type in SageMaker's ARNs (`arn:aws:sagemaker:…:training-job/NAME`).
    pub fn arn_type(self) -> &'static str {
        match self {
            ResourceKind::TrainingJob => "training-job",
            ResourceKind::Model => "model",
            ResourceKind::TransformJob => "transform-job",
            ResourceKind::EndpointConfig => "endpoint-config",
        }
    }

    pub fn from_arn_type(text: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|k| k.arn_type() == text)
    }
}

/// One resource's `gatehouse:commit` tag. Names are compared without regard to case:
/// SageMaker names are unique regardless of case, and its ARNs carry them in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitTag {
    pub kind: ResourceKind,
    pub name: String,
    pub commit: String,
}

impl CommitTag {
    /// Reads `arn:<partition>:sagemaker:<region>:<account>:<type>/<name>` and the tag's value;
    /// `None` for an ARN of another service or resource type.
    pub fn from_arn(arn: &str, commit: &str) -> Option<CommitTag> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(_), Some("sagemaker"), Some(_), Some(_), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let (kind, name) = resource.split_once('/')?;
        Some(CommitTag {
            kind: ResourceKind::from_arn_type(kind)?,
            name: name.to_string(),
            commit: commit.to_string(),
        })
    }
}

/// The `gatehouse:commit` tags a backend holds for some kinds of resource (all of them, or
/// those naming one commit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitTags {
    tags: Vec<CommitTag>,
}

impl CommitTags {
    pub fn new(tags: Vec<CommitTag>) -> CommitTags {
        CommitTags { tags }
    }

    fn tag_of(&self, kind: ResourceKind, name: &str) -> Option<&CommitTag> {
        self.tags
            .iter()
            .find(|t| t.kind == kind && t.name.eq_ignore_ascii_case(name))
    }

    /// The value of a resource's tag, when these tags hold one for it.
    pub fn tag(&self, kind: ResourceKind, name: &str) -> Option<&str> {
        self.tag_of(kind, name).map(|t| t.commit.as_str())
    }

    /// The commit a resource belongs to: the one its tag names, else its name read as a
    /// commit ID. A tag whose value is no commit ID Gatehouse can read counts as no tag.
    pub fn commit_of(&self, kind: ResourceKind, name: &str) -> Option<Commit> {
        self.tag_of(kind, name)
            .and_then(|t| Commit::parse(&t.commit))
            .or_else(|| Commit::parse(name))
    }

    /// Whether a resource belongs to `commit` (tag first, then name).
    pub fn belongs_to(&self, kind: ResourceKind, name: &str, commit: &str) -> bool {
        self.commit_of(kind, name).is_some_and(|c| c.id == commit)
    }

    /// The name of the commit's resource of a kind: one tagged with the commit (the one named
    /// after it when several are), else the one named after the commit as the seed's
    /// pipeline names it — unless these tags show it tagged with another commit (tags read
    /// for one commit only cannot show that; names are commit IDs with their build time, so
    /// another commit's resource by this name would have been named so on purpose).
    pub fn name_for(&self, kind: ResourceKind, commit: &str) -> Option<String> {
        let mut tagged: Vec<&CommitTag> = self
            .tags
            .iter()
            .filter(|t| t.kind == kind && t.commit == commit)
            .collect();
        tagged.sort_by(|a, b| a.name.cmp(&b.name));
        if tagged.iter().any(|t| t.name.eq_ignore_ascii_case(commit)) {
            return Some(commit.to_string());
        }
        if let Some(first) = tagged.first() {
            return Some(first.name.clone());
        }
        match self.tag_of(kind, commit) {
            Some(other) if other.commit != commit => None,
            _ => Some(commit.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "1a2b3c4d-11-25-2025-16-04-05";
    const OTHER: &str = "9f8e7d6c-11-26-2025-09-00-00";

    fn tag(kind: ResourceKind, name: &str, commit: &str) -> CommitTag {
        CommitTag {
            kind,
            name: name.into(),
            commit: commit.into(),
        }
    }

    #[test]
    fn arns_of_the_pipelines_resources_are_read_and_others_are_not() {
        let read = CommitTag::from_arn(
            "arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/1a2b3c4d-11-25-2025",
            SEED,
        )
        .unwrap();
        assert_eq!(read.kind, ResourceKind::EndpointConfig);
        assert_eq!(read.name, "1a2b3c4d-11-25-2025");
        let job = CommitTag::from_arn(
            "arn:aws-cn:sagemaker:cn-north-1:123456789012:training-job/x",
            SEED,
        )
        .unwrap();
        assert_eq!(job.kind, ResourceKind::TrainingJob);
        for other in [
            "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/serving",
            "arn:aws:s3:::bucket/key",
            "arn:aws:sagemaker:eu-west-1:123456789012:model",
            "not an arn",
        ] {
            assert_eq!(CommitTag::from_arn(other, SEED), None, "{other}");
        }
    }

    #[test]
    fn a_tag_names_the_commit_before_the_name_does() {
        let tags = CommitTags::new(vec![
            tag(ResourceKind::EndpointConfig, "serving-blue", SEED),
            tag(ResourceKind::EndpointConfig, OTHER, SEED),
        ]);
        let of = |name| {
            tags.commit_of(ResourceKind::EndpointConfig, name)
                .map(|c| c.id)
        };
        // Named freely, traced by its tag.
        assert_eq!(of("Serving-Blue").as_deref(), Some(SEED));
        // Named like another commit, but tagged with this one.
        assert_eq!(of(OTHER).as_deref(), Some(SEED));
        // No tag: the seed's naming.
        assert_eq!(
            of("5eed1e55-12-04-2026-10-00-00").as_deref(),
            Some("5eed1e55-12-04-2026-10-00-00")
        );
        assert_eq!(of("serving-green"), None);
        // The same name as another kind of resource carries no tag of this kind.
        assert_eq!(tags.commit_of(ResourceKind::Model, "serving-blue"), None);
    }

    #[test]
    fn a_tag_that_names_no_commit_leaves_the_name_to_tell() {
        let tags = CommitTags::new(vec![tag(ResourceKind::Model, SEED, "release candidate")]);
        assert_eq!(
            tags.commit_of(ResourceKind::Model, SEED)
                .map(|c| c.id)
                .as_deref(),
            Some(SEED)
        );
    }

    #[test]
    fn a_commits_resource_is_the_tagged_one_else_the_one_named_after_it() {
        let tags = CommitTags::new(vec![
            tag(ResourceKind::TrainingJob, "train-1a2b3c4d-b", SEED),
            tag(ResourceKind::TrainingJob, "train-1a2b3c4d-a", SEED),
            tag(ResourceKind::Model, SEED, SEED),
            tag(ResourceKind::Model, "model-1a2b3c4d", SEED),
            tag(ResourceKind::TransformJob, SEED, OTHER),
        ]);
        let name = |kind| tags.name_for(kind, SEED);
        assert_eq!(
            name(ResourceKind::TrainingJob).as_deref(),
            Some("train-1a2b3c4d-a")
        );
        assert_eq!(name(ResourceKind::Model).as_deref(), Some(SEED));
        // Named after the commit but tagged with another: not this commit's.
        assert_eq!(name(ResourceKind::TransformJob), None);
        // Nothing tagged: the seed's naming.
        assert_eq!(name(ResourceKind::EndpointConfig).as_deref(), Some(SEED));
        assert!(tags.belongs_to(ResourceKind::TrainingJob, "TRAIN-1a2b3c4d-B", SEED));
        assert!(!tags.belongs_to(ResourceKind::TransformJob, SEED, SEED));
    }
}
