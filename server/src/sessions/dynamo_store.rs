//! A tower-sessions store on a DynamoDB table (aws mode).
//!
//! One item per session: `id` (S, the partition key), `data` (S, the tower-sessions
//! `Record` as JSON, the same encoding as the SQLite store) and `expires_at` (N, Unix
//! seconds), the table's TTL attribute. DynamoDB removes expired items lazily (within days),
//! so `load` checks `expires_at` itself. Reads are strongly consistent: a session saved by one
//! request must be seen by the next.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::dynamo::{code, ensure_key_value_table, failure};

/// The partition key.
pub const ID: &str = "id";
/// The serialized `Record`.
pub const DATA: &str = "data";
/// Unix seconds; the table's TTL attribute.
pub const EXPIRES_AT: &str = "expires_at";

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
        ensure_key_value_table(&self.client, &self.table, ID, EXPIRES_AT)
            .await
            .map_err(session_store::Error::Backend)
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
