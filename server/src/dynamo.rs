//! What the DynamoDB stores share: naming a failed call safely, and creating a key-value table
//! with a TTL attribute (the sessions and the coordination tables have that shape).

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;

/// How long [`ensure_key_value_table`] waits for a new table to become active.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

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

/// Creates table `table` (on-demand capacity, string partition key `key`) if it is missing,
/// waits until it is active and turns TTL on for `ttl` if it is off. For tests and
/// development: production tables come from the SAM template. Safe to call concurrently and
/// repeatedly. The error is a sentence for logs.
pub async fn ensure_key_value_table(
    client: &Client,
    table: &str,
    key: &str,
    ttl: &str,
) -> Result<(), String> {
    let described = client.describe_table().table_name(table).send().await;
    match described {
        Ok(_) => {}
        Err(error) if code(&error) == Some("ResourceNotFoundException") => {
            create_table(client, table, key).await?
        }
        Err(error) => return Err(failure("DescribeTable", &error)),
    }
    wait_until_active(client, table).await?;
    ensure_ttl(client, table, ttl).await
}

async fn create_table(client: &Client, table: &str, key: &str) -> Result<(), String> {
    let build = |e: aws_sdk_dynamodb::error::BuildError| format!("CreateTable input: {e}");
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
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
            Err(failure("CreateTable", &error))
        }
        _ => Ok(()),
    }
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    loop {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|error| failure("DescribeTable", &error))?;
        let status = described.table().and_then(|table| table.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "table {table} not active after {}s",
                TABLE_ACTIVE_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether TTL is on (or turning on) for `ttl`; an error if it is on for another attribute (a
/// table has at most one TTL attribute).
async fn ttl_is_on(client: &Client, table: &str, ttl: &str) -> Result<bool, String> {
    let described = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|error| failure("DescribeTimeToLive", &error))?;
    let description = described.time_to_live_description();
    let status = description.and_then(|d| d.time_to_live_status());
    let attribute = description.and_then(|d| d.attribute_name());
    match status {
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => {
            if attribute == Some(ttl) {
                Ok(true)
            } else {
                Err(format!("table {table} has TTL on {attribute:?}, not {ttl}"))
            }
        }
        _ => Ok(false),
    }
}

async fn ensure_ttl(client: &Client, table: &str, ttl: &str) -> Result<(), String> {
    if ttl_is_on(client, table, ttl).await? {
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(ttl)
        .enabled(true)
        .build()
        .map_err(|e| format!("UpdateTimeToLive input: {e}"))?;
    let updated = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await;
    match updated {
        Ok(_) => Ok(()),
        // "TimeToLive is already enabled": a concurrent caller was first; check it is ours.
        Err(error) if code(&error) == Some("ValidationException") => {
            if ttl_is_on(client, table, ttl).await? {
                Ok(())
            } else {
                Err(failure("UpdateTimeToLive", &error))
            }
        }
        Err(error) => Err(failure("UpdateTimeToLive", &error)),
    }
}
