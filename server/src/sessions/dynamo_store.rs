//! A tower-sessions store on a DynamoDB table (aws mode).
//!
//! One item per session: `id` (S, the partition key), `data` (S, the tower-sessions
//! `Record` as JSON, the same encoding as the SQLite store) and `expires_at` (N, Unix
//! seconds), the table's TTL attribute. DynamoDB removes expired items lazily (within days),
//! so `load` checks `expires_at` itself. Reads are strongly consistent: a session saved by one
//! request must be seen by the next.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The partition key.
pub const ID: &str = "id";
/// The serialized `Record`.
pub const DATA: &str = "data";
/// Unix seconds; the table's TTL attribute.
pub const EXPIRES_AT: &str = "expires_at";

/// How long [`DynamoSessionStore::ensure_table`] waits for a new table to become active.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Debug)]
pub struct DynamoSessionStore {
    client: Client,
    table: String,
}

impl DynamoSessionStore {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table (on-demand capacity) if it is missing and turns TTL on for
    /// `expires_at` if it is off. For tests and development: production tables come from the
    /// SAM template. Safe to call concurrently and repeatedly.
    pub async fn ensure_table(&self) -> session_store::Result<()> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await;
        match described {
            Ok(_) => {}
            Err(error) if code(&error) == Some("ResourceNotFoundException") => {
                self.create_table().await?
            }
            Err(error) => return Err(backend("DescribeTable", &error)),
        }
        self.wait_until_active().await?;
        self.ensure_ttl().await
    }

    async fn create_table(&self) -> session_store::Result<()> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| {
            session_store::Error::Backend(format!("CreateTable input: {e}"))
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(ID)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(ID)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(build)?,
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            // Someone else created it meanwhile: as good.
            Err(error) if code(&error) != Some("ResourceInUseException") => {
                Err(backend("CreateTable", &error))
            }
            _ => Ok(()),
        }
    }

    async fn wait_until_active(&self) -> session_store::Result<()> {
        let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
        loop {
            let described = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|error| backend("DescribeTable", &error))?;
            let status = described.table().and_then(|table| table.table_status());
            if status == Some(&TableStatus::Active) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(session_store::Error::Backend(format!(
                    "table {} not active after {}s",
                    self.table,
                    TABLE_ACTIVE_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Whether TTL is on (or turning on) for `expires_at`; an error if it is on for another
    /// attribute (a table has at most one TTL attribute).
    async fn ttl_on_expires_at(&self) -> session_store::Result<bool> {
        let described = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|error| backend("DescribeTimeToLive", &error))?;
        let ttl = described.time_to_live_description();
        let status = ttl.and_then(|ttl| ttl.time_to_live_status());
        let attribute = ttl.and_then(|ttl| ttl.attribute_name());
        match status {
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => {
                if attribute == Some(EXPIRES_AT) {
                    Ok(true)
                } else {
                    Err(session_store::Error::Backend(format!(
                        "table {} has TTL on {attribute:?}, not {EXPIRES_AT}",
                        self.table
                    )))
                }
            }
            _ => Ok(false),
        }
    }

    async fn ensure_ttl(&self) -> session_store::Result<()> {
        if self.ttl_on_expires_at().await? {
            return Ok(());
        }
        let specification = TimeToLiveSpecification::builder()
            .attribute_name(EXPIRES_AT)
            .enabled(true)
            .build()
            .map_err(|e| session_store::Error::Backend(format!("UpdateTimeToLive input: {e}")))?;
        let updated = self
            .client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(specification)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            // "TimeToLive is already enabled": a concurrent caller was first; check it is ours.
            Err(error) if code(&error) == Some("ValidationException") => {
                if self.ttl_on_expires_at().await? {
                    Ok(())
                } else {
                    Err(backend("UpdateTimeToLive", &error))
                }
            }
            Err(error) => Err(backend("UpdateTimeToLive", &error)),
        }
    }

    fn item(
        record: &Record,
    ) -> session_store::Result<std::collections::HashMap<String, AttributeValue>> {
        let encoded = serde_json::to_string(record)
            .map_err(|error| session_store::Error::Encode(error.to_string()))?;
        Ok(std::collections::HashMap::from([
            (ID.to_string(), AttributeValue::S(record.id.to_string())),
            (DATA.to_string(), AttributeValue::S(encoded)),
            (
                EXPIRES_AT.to_string(),
                AttributeValue::N(record.expiry_date.unix_timestamp().to_string()),
            ),
        ]))
    }
}

/// The AWS error code of a failed call, if the service answered one.
pub(crate) fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// What went wrong with a DynamoDB call, in words safe to log: the operation and the error
/// code or kind only. (The error's text can quote request values, and a session id is a
/// bearer secret.)
pub(crate) fn failure<E: ProvideErrorMetadata, R>(
    operation: &str,
    error: &SdkError<E, R>,
) -> String {
    let what = match error {
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .unwrap_or("unnamed service error")
            .to_string(),
        SdkError::TimeoutError(_) => "timeout".into(),
        SdkError::DispatchFailure(_) => "dispatch failure".into(),
        SdkError::ResponseError(_) => "unreadable response".into(),
        SdkError::ConstructionFailure(_) => "request construction".into(),
        _ => "unknown SDK error".into(),
    };
    format!("DynamoDB {operation}: {what}")
}

fn backend<E: ProvideErrorMetadata, R>(
    operation: &str,
    error: &SdkError<E, R>,
) -> session_store::Error {
    session_store::Error::Backend(failure(operation, error))
}

#[async_trait]
impl SessionStore for DynamoSessionStore {
    /// Puts the item only if no item has its id (`attribute_not_exists(id)`), drawing a new id
    /// on the (astronomically unlikely) collision, so a new session can never take over an
    /// existing one.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(Self::item(record)?))
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", ID)
                .send()
                .await;
            match put {
                Ok(_) => return Ok(()),
                Err(error) if code(&error) == Some("ConditionalCheckFailedException") => {
                    record.id = Id::default();
                }
                Err(error) => return Err(backend("PutItem", &error)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(record)?))
            .send()
            .await
            .map_err(|error| backend("PutItem", &error))?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(session_id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| backend("GetItem", &error))?;
        let Some(item) = output.item() else {
            return Ok(None);
        };
        let decode = |what: &str| session_store::Error::Decode(format!("session item: {what}"));
        let expires_at: i64 = match item.get(EXPIRES_AT) {
            Some(AttributeValue::N(number)) => number.parse().map_err(|_| decode("expires_at"))?,
            _ => return Err(decode("expires_at missing")),
        };
        // TTL deletes late; an expired item is no session.
        if expires_at <= OffsetDateTime::now_utc().unix_timestamp() {
            return Ok(None);
        }
        match item.get(DATA) {
            Some(AttributeValue::S(json)) => serde_json::from_str(json)
                .map(Some)
                .map_err(|error| session_store::Error::Decode(error.to_string())),
            _ => Err(decode("data missing")),
        }
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(session_id.to_string()))
            .send()
            .await
            .map_err(|error| backend("DeleteItem", &error))?;
        Ok(())
    }
}
