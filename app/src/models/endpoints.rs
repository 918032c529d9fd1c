//! What the Endpoints pages show, and the rules their forms must meet: every endpoint with the
//! commit it serves, one endpoint with the configs it can be rolled back to.

use serde::{Deserialize, Serialize};

use super::commit_tags::{CommitTags, ResourceKind};
use super::lineage::Deployment;
use super::pipeline::{shorten, Commit, Endpoint, EndpointConfig, InputError, Timestamp};

/// One row of `/endpoints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRow {
    pub endpoint: Endpoint,
    /// The commit its config was made for (by the config's `gatehouse:commit` tag, else its
    /// name).
    pub commit: Option<Commit>,
    /// The last change Gatehouse made to it (a rollback), if any.
    pub last_change: Option<EndpointChange>,
}

/// A change an operator made to an endpoint through Gatehouse, from the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointChange {
    pub by: String,
    pub at: Timestamp,
    /// `rollback` or `delete`.
    pub action: String,
    /// The config the endpoint was asked to serve (a rollback's).
    pub to_config: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointList {
    pub rows: Vec<EndpointRow>,
}

/// An endpoint config an endpoint can be rolled back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackChoice {
    pub config_name: String,
    pub commit: Option<Commit>,
    pub created: Option<Timestamp>,
}

/// Everything `/endpoints/<name>` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub endpoint: Endpoint,
    pub commit: Option<Commit>,
    /// The config it serves, with its variants and their models.
    pub config: Option<EndpointConfig>,
    /// Earlier configs it can be rolled back to, newest first.
    pub choices: Vec<RollbackChoice>,
    pub last_change: Option<EndpointChange>,
    /// Every config it was asked to serve, newest first.
    pub history: Vec<DeploymentEntry>,
}

/// One entry of an endpoint's deployment history, with who put the config there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentEntry {
    pub deployment: Deployment,
    pub commit: Option<Commit>,
    /// "rolled back by ana" or "approved by olga": who asked for it, when Gatehouse knows.
    pub by: Option<String>,
}

/// How long before its audit record a rollback's deployment may have been asked for: the
/// record is written once SageMaker accepted the update, within seconds of it.
const ROLLBACK_MATCH_MILLIS: i64 = 5 * 60 * 1000;
/// How much later than its record a deployment may seem to start (clocks of two machines).
const CLOCK_SKEW_MILLIS: i64 = 5_000;

/// The deployment history newest first, each entry credited to the operator whose rollback
/// (in `changes`, from the audit log) asked for it, or else to whoever approved its commit's
/// run (`approvers`: commit ID → username; each config's commit by `tags`). A rollback asked
/// for one deployment: the newest of its config asked for before the record was written (and
/// not long before).
pub fn credit_deployments(
    history: Vec<Deployment>,
    changes: &[EndpointChange],
    approvers: &std::collections::HashMap<String, String>,
    tags: &CommitTags,
) -> Vec<DeploymentEntry> {
    let mut rolled_back_by: Vec<Option<&str>> = vec![None; history.len()];
    for change in changes.iter().filter(|c| c.action == "rollback") {
        let caused = history
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                rolled_back_by.get(*i).is_some_and(Option::is_none)
                    && change.to_config.as_deref() == Some(d.config_name.as_str())
            })
            .filter_map(|(i, d)| {
                let asked = d.requested_at.or(d.served_from)?;
                let before = change.at.0 + CLOCK_SKEW_MILLIS - asked.0;
                (0..=ROLLBACK_MATCH_MILLIS + CLOCK_SKEW_MILLIS)
                    .contains(&before)
                    .then_some((before, i))
            })
            .min();
        if let Some(slot) = caused.and_then(|(_, i)| rolled_back_by.get_mut(i)) {
            *slot = Some(change.by.as_str());
        }
    }
    let mut entries: Vec<DeploymentEntry> = history
        .into_iter()
        .zip(rolled_back_by)
        .map(|(deployment, rollback)| {
            let commit = tags.commit_of(ResourceKind::EndpointConfig, &deployment.config_name);
            let by = match rollback {
                Some(who) => Some(format!("rolled back by {who}")),
                None => commit
                    .as_ref()
                    .and_then(|c| approvers.get(&c.id))
                    .map(|who| format!("approved by {who}")),
            };
            DeploymentEntry {
                commit,
                deployment,
                by,
            }
        })
        .collect();
    entries.reverse();
    entries
}

impl EndpointView {
    /// Whether the endpoint can take a rollback now, and if not, why: SageMaker takes one
    /// change at a time and cannot update a failed endpoint.
    pub fn why_not_changeable(&self) -> Option<&'static str> {
        match self.endpoint.status.as_str() {
            "InService" => None,
            "Creating" | "Updating" | "SystemUpdating" | "RollingBack" => {
                Some("The endpoint is changing now; wait until it is InService.")
            }
            "Failed" => Some("A failed endpoint cannot be updated; delete it and deploy again."),
            _ => Some("The endpoint is not in service."),
        }
    }
}

/// SageMaker's name rule for endpoints and endpoint configs:
/// `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`, said in words when broken.
pub fn check_resource_name(kind: &str, name: &str) -> Result<(), InputError> {
    let fits = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if fits {
        Ok(())
    } else {
        Err(InputError(format!(
            "'{}' is not an {kind} name: SageMaker names are 1 to 63 letters, digits and \
             hyphens, starting and ending with a letter or digit.",
            shorten(name, 80)
        )))
    }
}

/// A rollback's reason: required (it is what the audit log and the next reader see), at most
/// 1,000 characters.
pub fn check_reason(reason: &str) -> Result<&str, InputError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(InputError(
            "Say why you roll the endpoint back: the reason goes into the audit log.".into(),
        ));
    }
    if reason.chars().count() > 1000 {
        return Err(InputError("Keep the reason under 1,000 characters.".into()));
    }
    Ok(reason)
}

/// A delete is confirmed by typing the endpoint's name exactly.
pub fn check_typed_name(endpoint: &str, typed: &str) -> Result<(), InputError> {
    if typed.trim() == endpoint {
        Ok(())
    } else {
        Err(InputError(format!(
            "To delete the endpoint, type its name, {endpoint}, exactly; nothing was deleted."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_sagemakers_rule() {
        for good in ["iris-serving", "a", "A1-b2--c3", &"x".repeat(63)] {
            assert!(check_resource_name("endpoint", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-iris",
            "iris-",
            "iris_serving",
            "iris serving",
            &"x".repeat(64),
            "ïris",
        ] {
            let error = check_resource_name("endpoint", bad).unwrap_err();
            assert!(error.0.contains("not an endpoint name"), "{bad}: {error:?}");
        }
    }

    #[test]
    fn a_rollback_needs_a_reason_and_a_delete_the_exact_name() {
        assert!(check_reason("   ")
            .unwrap_err()
            .0
            .starts_with("Say why you roll the endpoint back"));
        assert_eq!(check_reason(" model drifts ").unwrap(), "model drifts");
        assert_eq!(
            check_reason(&"x".repeat(1001)).unwrap_err().0,
            "Keep the reason under 1,000 characters."
        );
        assert!(check_typed_name("iris-serving", "iris-serving").is_ok());
        for typed in ["iris-servin", "IRIS-SERVING"] {
            assert_eq!(
                check_typed_name("iris-serving", typed).unwrap_err().0,
                "To delete the endpoint, type its name, iris-serving, exactly; nothing was deleted.",
                "{typed}"
            );
        }
    }

    #[test]
    fn each_rollback_credits_the_deployment_it_asked_for_and_the_rest_their_approver() {
        let deployment = |config: &str, at: i64| Deployment {
            endpoint: "iris-serving".into(),
            config_name: config.into(),
            requested_at: Some(Timestamp(at)),
            served_from: Some(Timestamp(at + 1_000)),
            served_until: None,
            failure_reason: None,
            end_unknown: false,
        };
        // Ten seconds apart, as in a quick run: closeness alone cannot tell them apart.
        let second = 1_000;
        let history = vec![
            deployment("aaaaaaaa-1", 0),
            deployment("bbbbbbbb-2", 10 * second),
            deployment("aaaaaaaa-1", 20 * second),
        ];
        let rollback = |to: &str, at: i64| EndpointChange {
            by: "olga".into(),
            at: Timestamp(at),
            action: "rollback".into(),
            to_config: Some(to.into()),
        };
        // One rollback, recorded a moment after the third deployment was asked for; another
        // recorded before anything was deployed to its config.
        let changes = [
            rollback("aaaaaaaa-1", 20 * second + 300),
            rollback("bbbbbbbb-2", 2 * second),
        ];
        let approvers = [
            ("aaaaaaaa-1".to_string(), "ana".to_string()),
            ("bbbbbbbb-2".to_string(), "ben".to_string()),
        ]
        .into_iter()
        .collect();
        let credited = credit_deployments(history, &changes, &approvers, &CommitTags::default());
        let by: Vec<Option<&str>> = credited.iter().map(|e| e.by.as_deref()).collect();
        assert_eq!(
            by,
            [
                Some("rolled back by olga"),
                Some("approved by ben"),
                Some("approved by ana")
            ]
        );
        assert_eq!(
            credited[0].deployment.requested_at,
            Some(Timestamp(20 * second))
        );
    }

    #[test]
    fn a_config_named_freely_is_credited_by_its_commit_tag() {
        use crate::models::commit_tags::CommitTag;
        let deployment = Deployment {
            endpoint: "iris-serving".into(),
            config_name: "iris-blue".into(),
            requested_at: None,
            served_from: Some(Timestamp(1_000)),
            served_until: None,
            failure_reason: None,
            end_unknown: false,
        };
        let approvers = [("bbbbbbbb-2".to_string(), "ben".to_string())]
            .into_iter()
            .collect();
        let tags = CommitTags::new(vec![CommitTag {
            kind: ResourceKind::EndpointConfig,
            name: "iris-blue".into(),
            commit: "bbbbbbbb-2".into(),
        }]);
        let credited = credit_deployments(vec![deployment.clone()], &[], &approvers, &tags);
        assert_eq!(credited[0].by.as_deref(), Some("approved by ben"));
        assert_eq!(
            credited[0].commit.as_ref().map(|c| c.id.as_str()),
            Some("bbbbbbbb-2")
        );
        // Untagged, the name tells nothing here.
        let untagged =
            credit_deployments(vec![deployment], &[], &approvers, &CommitTags::default());
        assert_eq!(
            (untagged[0].by.as_ref(), untagged[0].commit.as_ref()),
            (None, None)
        );
    }
}
