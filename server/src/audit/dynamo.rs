//! The audit log in a DynamoDB table (aws mode).
//!
//! Records live in one partition (`chain` = `records`) sorted by `seq` (N); the head is an
//! item of its own (`chain` = `head`, `seq` = 0) holding `head_seq` and `head_hash`. A batch is
//! one `TransactWriteItems`: every record put only if its `seq` is free, and the head moved
//! only if it still names the record the batch was linked to. Two servers appending at once
//! therefore never fork the chain: the loser's transaction is cancelled, it reads the new
//! head and links again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use app::audit::{AuditError, AuditLog};
use app::models::audit::{AuditEntry, AuditOutcome, AuditQuery, AuditRecord};
use app::models::pipeline::Timestamp;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TableStatus, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;

use super::chain::link;
use super::writer::{ChainStore, Writer};
use crate::dynamo::{code, failure};

const CHAIN: &str = "chain";
const SEQ: &str = "seq";
const RECORDS: &str = "records";
const HEAD: &str = "head";

/// An item's attributes.
type Item = HashMap<String, AttributeValue>;

/// How often a batch is linked again after losing a race to another server.
const RACE_RETRIES: usize = 50;

#[derive(Debug, Clone)]
pub struct DynamoAuditLog {
    table: Arc<Table>,
    writer: Writer,
}

#[derive(Debug)]
struct Table {
    client: Client,
    name: String,
}

impl DynamoAuditLog {
    /// The log in table `name`; starts its writer task on the current runtime.
    pub fn new(client: Client, name: String) -> Self {
        let table = Arc::new(Table { client, name });
        let writer = Writer::spawn(Arc::clone(&table));
        Self { table, writer }
    }

    /// Creates the table (on-demand) if it is missing. For tests and development: production
    /// tables come from the SAM template.
    pub async fn ensure_table(&self) -> Result<(), AuditError> {
        self.table.ensure().await
    }
}

/// A failed call as an audit error (operation and error code or kind only).
fn failed<E: ProvideErrorMetadata, R>(operation: &str, error: &SdkError<E, R>) -> AuditError {
    AuditError::Unavailable(failure(operation, error))
}

fn input_error(error: aws_sdk_dynamodb::error::BuildError) -> AuditError {
    AuditError::Unavailable(format!("DynamoDB request: {error}"))
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn item_of(record: &AuditRecord) -> HashMap<String, AttributeValue> {
    let e = &record.entry;
    HashMap::from([
        (CHAIN.into(), s(RECORDS)),
        (SEQ.into(), n(record.seq)),
        ("at_ms".into(), n(record.at.millis())),
        ("actor".into(), s(&e.actor)),
        ("roles".into(), s(&e.roles.join(","))),
        ("action".into(), s(&e.action)),
        ("target".into(), s(&e.target)),
        ("outcome".into(), s(e.outcome.as_str())),
        ("request_id".into(), s(&e.request_id)),
        ("source_ip".into(), s(&e.source_ip)),
        ("details".into(), s(&e.details)),
        ("prev_hash".into(), s(&record.prev_hash)),
        ("hash".into(), s(&record.hash)),
    ])
}

fn record_of(item: &HashMap<String, AttributeValue>) -> Result<AuditRecord, AuditError> {
    let seq_text = item.get(SEQ).and_then(|v| v.as_n().ok());
    let corrupt = |what: &str| {
        AuditError::Corrupt(format!(
            "item {} has no readable {what}",
            seq_text.map(String::as_str).unwrap_or("?")
        ))
    };
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| corrupt(name))
    };
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| corrupt(name))
    };
    let outcome = text("outcome")?;
    Ok(AuditRecord {
        seq: number(SEQ)? as u64,
        at: Timestamp(number("at_ms")?),
        entry: AuditEntry {
            actor: text("actor")?,
            roles: text("roles")?
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            action: text("action")?,
            target: text("target")?,
            outcome: AuditOutcome::parse(&outcome).ok_or_else(|| corrupt("outcome"))?,
            request_id: text("request_id")?,
            source_ip: text("source_ip")?,
            details: text("details")?,
        },
        prev_hash: text("prev_hash")?,
        hash: text("hash")?,
    })
}

impl Table {
    async fn ensure(&self) -> Result<(), AuditError> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.name)
            .send()
            .await;
        match described {
            Ok(_) => {}
            Err(error) if code(&error) == Some("ResourceNotFoundException") => {
                let created = self
                    .client
                    .create_table()
                    .table_name(&self.name)
                    .attribute_definitions(
                        AttributeDefinition::builder()
                            .attribute_name(CHAIN)
                            .attribute_type(ScalarAttributeType::S)
                            .build()
                            .map_err(input_error)?,
                    )
                    .attribute_definitions(
                        AttributeDefinition::builder()
                            .attribute_name(SEQ)
                            .attribute_type(ScalarAttributeType::N)
                            .build()
                            .map_err(input_error)?,
                    )
                    .key_schema(
                        KeySchemaElement::builder()
                            .attribute_name(CHAIN)
                            .key_type(KeyType::Hash)
                            .build()
                            .map_err(input_error)?,
                    )
                    .key_schema(
                        KeySchemaElement::builder()
                            .attribute_name(SEQ)
                            .key_type(KeyType::Range)
                            .build()
                            .map_err(input_error)?,
                    )
                    .billing_mode(BillingMode::PayPerRequest)
                    .send()
                    .await;
                if let Err(error) = created {
                    if code(&error) != Some("ResourceInUseException") {
                        return Err(failed("CreateTable", &error));
                    }
                }
            }
            Err(error) => return Err(failed("DescribeTable", &error)),
        }
        for _ in 0..240 {
            let described = self
                .client
                .describe_table()
                .table_name(&self.name)
                .send()
                .await
                .map_err(|e| failed("DescribeTable", &e))?;
            if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(AuditError::Unavailable(format!(
            "table {} did not become active",
            self.name
        )))
    }

    async fn read_head(&self) -> Result<Option<(u64, String)>, AuditError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .key(CHAIN, s(HEAD))
            .key(SEQ, n(0))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", &e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let seq = item
            .get("head_seq")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let hash = item.get("head_hash").and_then(|v| v.as_s().ok()).cloned();
        match (seq, hash) {
            (Some(seq), Some(hash)) => Ok(Some((seq, hash))),
            _ => Err(AuditError::Corrupt("the head item is not readable".into())),
        }
    }

    /// One attempt: link after the head as read now and write all or nothing. `Ok(None)`
    /// when another writer moved the head first.
    async fn try_append(
        &self,
        entries: &[AuditEntry],
    ) -> Result<Option<Vec<AuditRecord>>, AuditError> {
        let head = self.read_head().await?;
        let records = link(head.clone(), entries.iter().cloned(), Timestamp::now());
        let Some(last) = records.last() else {
            return Ok(Some(records));
        };
        let mut items = Vec::with_capacity(records.len() + 1);
        for record in &records {
            let put = Put::builder()
                .table_name(&self.name)
                .set_item(Some(item_of(record)))
                .condition_expression("attribute_not_exists(#seq)")
                .expression_attribute_names("#seq", SEQ)
                .build()
                .map_err(input_error)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        let head_item = HashMap::from([
            (CHAIN.to_string(), s(HEAD)),
            (SEQ.to_string(), n(0)),
            ("head_seq".to_string(), n(last.seq)),
            ("head_hash".to_string(), s(&last.hash)),
        ]);
        let mut head_put = Put::builder()
            .table_name(&self.name)
            .set_item(Some(head_item));
        head_put = match &head {
            None => head_put
                .condition_expression("attribute_not_exists(#chain)")
                .expression_attribute_names("#chain", CHAIN),
            Some((seq, _)) => head_put
                .condition_expression("head_seq = :previous")
                .expression_attribute_values(":previous", n(seq)),
        };
        items.push(
            TransactWriteItem::builder()
                .put(head_put.build().map_err(input_error)?)
                .build(),
        );
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match written {
            Ok(_) => Ok(Some(records)),
            Err(error)
                if matches!(
                    code(&error),
                    Some("TransactionCanceledException" | "TransactionConflictException")
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(failed("TransactWriteItems", &error)),
        }
    }

    /// Records in the partition, `forward` from the start or backwards from the end, with
    /// `seq` beyond `bound` (after it going forward, before it going backward), pages of
    /// `page` items.
    async fn query_page(
        &self,
        forward: bool,
        bound: Option<u64>,
        page: i32,
        start: Option<Item>,
    ) -> Result<(Vec<AuditRecord>, Option<Item>), AuditError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.name)
            .consistent_read(true)
            .scan_index_forward(forward)
            .limit(page)
            .expression_attribute_names("#chain", CHAIN)
            .expression_attribute_values(":records", s(RECORDS))
            .set_exclusive_start_key(start);
        request = match bound {
            None => request.key_condition_expression("#chain = :records"),
            Some(bound) => request
                .key_condition_expression(if forward {
                    "#chain = :records AND #seq > :bound"
                } else {
                    "#chain = :records AND #seq < :bound"
                })
                .expression_attribute_names("#seq", SEQ)
                .expression_attribute_values(":bound", n(bound)),
        };
        let out = request.send().await.map_err(|e| failed("Query", &e))?;
        let records = out
            .items()
            .iter()
            .map(record_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((records, out.last_evaluated_key().cloned()))
    }
}

#[async_trait::async_trait]
impl ChainStore for Table {
    /// A transaction holds at most 100 items: the records and the head.
    fn max_batch(&self) -> usize {
        99
    }

    async fn append_batch(&self, entries: Vec<AuditEntry>) -> Result<Vec<AuditRecord>, AuditError> {
        for attempt in 0..RACE_RETRIES {
            if let Some(records) = self.try_append(&entries).await? {
                return Ok(records);
            }
            // Lost to another server: back off a little, growing, then link to its head.
            let jitter = rand::random::<u64>() % 20;
            tokio::time::sleep(Duration::from_millis(5 * attempt as u64 + jitter)).await;
        }
        Err(AuditError::Unavailable(format!(
            "the audit head kept moving: gave up after {RACE_RETRIES} attempts"
        )))
    }
}

#[async_trait::async_trait]
impl AuditLog for DynamoAuditLog {
    async fn append(&self, entry: AuditEntry) -> Result<AuditRecord, AuditError> {
        self.writer.append(entry).await
    }

    /// Newest first, filtered as pages come; stops once `limit` records match.
    async fn search(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, AuditError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let (records, next) = self
                .table
                .query_page(false, query.before, 500, start)
                .await?;
            for record in records {
                if found.len() >= query.limit {
                    return Ok(found);
                }
                if query.matches(&record) {
                    found.push(record);
                }
            }
            match next {
                Some(key) if found.len() < query.limit => start = Some(key),
                _ => return Ok(found),
            }
        }
    }

    async fn scan(&self, after: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
        let page = limit.clamp(1, 1000) as i32;
        let (records, _) = self.table.query_page(true, Some(after), page, None).await?;
        Ok(records)
    }

    async fn head(&self) -> Result<Option<(u64, String)>, AuditError> {
        self.table.read_head().await
    }
}
