//! The ballot box and the sign-in failure counts in the coordination table (aws mode).
//!
//! One item per thing, under partition key `id` (S), with `expires_at` (N, Unix seconds) as
//! the table's TTL attribute:
//! - `ballot#<execution>#<event id>`: one attribute `vote#<approver>` per vote, its time and
//!   comment as JSON. A vote is one `UpdateItem` that sets the approver's attribute only if it
//!   does not exist and answers the whole item as it is afterwards (`ALL_NEW`): two approvers
//!   voting at once on two instances are serialised by DynamoDB, and each sees the other's
//!   vote or not, never both seeing only their own.
//! - `signin-user#<username>` / `signin-address#<ip>`: `failures` (N) and `last_ms` (N),
//!   added to atomically (`ADD`), started again when the last failure is older than the
//!   forgetting time.
//!
//! Reads are strongly consistent: a vote or a failure counted on one instance must be seen by
//! the next request on another.

use std::collections::HashMap;
use std::time::Duration;

use app::ballots::{BallotError, BallotKey, Ballots, Cast};
use app::models::approvals::Vote;
use app::models::pipeline::Timestamp;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use serde_json::json;

use crate::dynamo::{code, ensure_key_value_table, failure};
use crate::guard::throttle::{FailureCounts, Failures};

/// The partition key.
const ID: &str = "id";
/// Unix seconds; the table's TTL attribute.
const EXPIRES_AT: &str = "expires_at";
const VOTE_PREFIX: &str = "vote#";
const FAILURES: &str = "failures";
const LAST_MS: &str = "last_ms";
/// How long a ballot is kept after its latest vote: longer than any execution can wait (Step
/// Functions ends a standard execution after a year).
const BALLOT_KEPT: Duration = Duration::from_secs(400 * 24 * 3600);
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

type Item = HashMap<String, AttributeValue>;

/// The coordination table.
#[derive(Debug, Clone)]
pub struct CoordinationTable {
    client: Client,
    name: String,
}

impl CoordinationTable {
    pub fn new(client: Client, name: String) -> Self {
        Self { client, name }
    }

    /// Creates the table (on-demand, TTL on `expires_at`) if it is missing. For tests and
    /// development: production tables come from the SAM template.
    pub async fn ensure_table(&self) -> Result<(), String> {
        ensure_key_value_table(&self.client, &self.name, ID, EXPIRES_AT).await
    }

    async fn get(&self, id: &str) -> Result<Option<Item>, String> {
        let read = self
            .client
            .get_item()
            .table_name(&self.name)
            .key(ID, AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| failure("GetItem", &error))?;
        Ok(read.item)
    }
}

fn unix_seconds_after(kept: Duration) -> AttributeValue {
    let now = Timestamp::now().millis() / 1000;
    let kept = i64::try_from(kept.as_secs()).unwrap_or(i64::MAX);
    n(now.saturating_add(kept))
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

/// A conditional write's outcome: `Ok(true)` when it landed, `Ok(false)` when its condition
/// did not hold.
fn landed<T, E, R>(
    operation: &str,
    result: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
) -> Result<bool, String>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if code(&error) == Some(CONDITION_FAILED) => Ok(false),
        Err(error) => Err(failure(operation, &error)),
    }
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn ballot_id(ballot: &BallotKey) -> String {
    format!("ballot#{}#{}", ballot.execution, ballot.scheduled_event_id)
}

/// The votes an item holds, oldest first. A vote attribute that cannot be read is left out
/// (and logged): the others still count.
fn votes_of(item: &Item) -> Vec<Vote> {
    let mut votes: Vec<Vote> = item
        .iter()
        .filter_map(|(name, value)| {
            let by = name.strip_prefix(VOTE_PREFIX)?;
            let parsed = value
                .as_s()
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
            let Some(parsed) = parsed else {
                tracing::error!(attribute = %name, "ballot: a vote attribute is not readable");
                return None;
            };
            Some(Vote {
                by: by.to_string(),
                at: Timestamp(
                    parsed
                        .get("at")
                        .and_then(serde_json::Value::as_i64)
                        .unwrap_or_default(),
                ),
                comment: parsed
                    .get("comment")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
        })
        .collect();
    votes.sort_by(|a, b| (a.at, &a.by).cmp(&(b.at, &b.by)));
    votes
}

#[derive(Debug, Clone)]
pub struct DynamoBallots {
    table: CoordinationTable,
}

impl DynamoBallots {
    pub fn new(table: CoordinationTable) -> Self {
        Self { table }
    }
}

#[async_trait::async_trait]
impl Ballots for DynamoBallots {
    async fn cast(&self, ballot: &BallotKey, vote: Vote) -> Result<Cast, BallotError> {
        let id = ballot_id(ballot);
        let value = json!({ "at": vote.at.millis(), "comment": vote.comment }).to_string();
        let updated = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key(ID, AttributeValue::S(id.clone()))
            .update_expression("SET #vote = :vote, #expires = :expires")
            .condition_expression("attribute_not_exists(#vote)")
            .expression_attribute_names("#vote", format!("{VOTE_PREFIX}{}", vote.by))
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":vote", AttributeValue::S(value))
            .expression_attribute_values(":expires", unix_seconds_after(BALLOT_KEPT))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => Ok(Cast {
                counted: true,
                votes: output.attributes.as_ref().map(votes_of).unwrap_or_default(),
            }),
            Err(error) if code(&error) == Some(CONDITION_FAILED) => Ok(Cast {
                counted: false,
                votes: self.votes(ballot).await?,
            }),
            Err(error) => Err(BallotError(failure("UpdateItem", &error))),
        }
    }

    async fn votes(&self, ballot: &BallotKey) -> Result<Vec<Vote>, BallotError> {
        let item = self
            .table
            .get(&ballot_id(ballot))
            .await
            .map_err(BallotError)?;
        Ok(item.as_ref().map(votes_of).unwrap_or_default())
    }
}

#[derive(Debug, Clone)]
pub struct DynamoFailureCounts {
    table: CoordinationTable,
}

impl DynamoFailureCounts {
    pub fn new(table: CoordinationTable) -> Self {
        Self { table }
    }

    /// Adds one failure to a count that is fresh (or absent); `Ok(false)` when the count is
    /// stale and must start again.
    async fn add_to_fresh(
        &self,
        key: &str,
        now_ms: i64,
        stale_before_ms: i64,
        expires: &AttributeValue,
    ) -> Result<bool, String> {
        let updated = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key(ID, AttributeValue::S(key.to_string()))
            .update_expression("ADD #failures :one SET #last = :now, #expires = :expires")
            .condition_expression("attribute_not_exists(#last) OR #last >= :stale")
            .expression_attribute_names("#failures", FAILURES)
            .expression_attribute_names("#last", LAST_MS)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":stale", n(stale_before_ms))
            .expression_attribute_values(":expires", expires.clone())
            .send()
            .await;
        landed("UpdateItem", updated)
    }

    /// Starts a stale count again at one, unless another instance did meanwhile.
    async fn restart_stale(
        &self,
        key: &str,
        now_ms: i64,
        stale_before_ms: i64,
        expires: &AttributeValue,
    ) -> Result<bool, String> {
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(ID, AttributeValue::S(key.to_string()))
            .item(FAILURES, n(1))
            .item(LAST_MS, n(now_ms))
            .item(EXPIRES_AT, expires.clone())
            .condition_expression("#last < :stale")
            .expression_attribute_names("#last", LAST_MS)
            .expression_attribute_values(":stale", n(stale_before_ms))
            .send()
            .await;
        landed("PutItem", put)
    }
}

#[async_trait::async_trait]
impl FailureCounts for DynamoFailureCounts {
    async fn read(&self, keys: &[String]) -> Result<Vec<Option<Failures>>, String> {
        let reads = futures_util::future::join_all(keys.iter().map(|key| self.table.get(key)));
        reads
            .await
            .into_iter()
            .map(|read| {
                Ok(read?.and_then(|item| {
                    Some(Failures {
                        count: u32::try_from(number(&item, FAILURES)?).unwrap_or(u32::MAX),
                        last_ms: number(&item, LAST_MS)?,
                    })
                }))
            })
            .collect()
    }

    async fn add(&self, keys: &[String], now_ms: i64, forget_after_ms: i64) -> Result<(), String> {
        let stale_before_ms = now_ms.saturating_sub(forget_after_ms);
        let kept = Duration::from_millis(u64::try_from(forget_after_ms).unwrap_or_default());
        let expires = unix_seconds_after(kept);
        for key in keys {
            // Fresh counts (nearly always) take one call; a stale one is started again, and
            // if another instance restarted it first, this failure is added to theirs.
            if self
                .add_to_fresh(key, now_ms, stale_before_ms, &expires)
                .await?
            {
                continue;
            }
            if !self
                .restart_stale(key, now_ms, stale_before_ms, &expires)
                .await?
            {
                self.add_to_fresh(key, now_ms, stale_before_ms, &expires)
                    .await?;
            }
        }
        Ok(())
    }

    async fn clear(&self, key: &str) -> Result<(), String> {
        self.table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .key(ID, AttributeValue::S(key.to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| failure("DeleteItem", &error))
    }
}
