//! The DynamoDB session store against moto's DynamoDB.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use server::sessions::dynamo_store::{DynamoSessionStore, EXPIRES_AT, ID};
use time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

use crate::moto::{unique_name, MotoServer};

struct Fixture {
    client: aws_sdk_dynamodb::Client,
    store: DynamoSessionStore,
}

/// A fresh table of its own on the shared moto.
async fn fixture() -> Fixture {
    let config = MotoServer::shared().sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let store = DynamoSessionStore::new(client.clone(), unique_name("sessions"));
    store.ensure_table().await.expect("table");
    Fixture { client, store }
}

fn record(expires_in: Duration) -> Record {
    Record {
        id: Id::default(),
        data: HashMap::from([("user".to_string(), serde_json::json!("ana"))]),
        // Whole seconds: the record travels as JSON, the expiry as Unix seconds.
        expiry_date: (OffsetDateTime::now_utc() + expires_in)
            .replace_nanosecond(0)
            .expect("valid time"),
    }
}

#[tokio::test]
async fn a_created_session_loads_back_equal() {
    let fixture = fixture().await;
    let mut created = record(Duration::hours(1));
    fixture.store.create(&mut created).await.expect("create");
    let loaded = fixture.store.load(&created.id).await.expect("load");
    assert_eq!(loaded, Some(created));
}

#[tokio::test]
async fn an_unknown_id_loads_as_none() {
    let fixture = fixture().await;
    assert_eq!(
        fixture.store.load(&Id::default()).await.expect("load"),
        None
    );
}

#[tokio::test]
async fn save_updates_data_and_expiry() {
    let fixture = fixture().await;
    let mut created = record(Duration::hours(1));
    fixture.store.create(&mut created).await.expect("create");
    created.data.insert("user".into(), serde_json::json!("bo"));
    created.expiry_date += Duration::hours(1);
    fixture.store.save(&created).await.expect("save");
    let loaded = fixture
        .store
        .load(&created.id)
        .await
        .expect("load")
        .expect("present");
    assert_eq!(loaded.data["user"], "bo");
    assert_eq!(loaded.expiry_date, created.expiry_date);
    let item = raw_item(&fixture, &created.id).await.expect("item");
    assert_eq!(
        item.get(EXPIRES_AT),
        Some(&AttributeValue::N(
            created.expiry_date.unix_timestamp().to_string()
        )),
        "the TTL attribute follows the expiry"
    );
}

#[tokio::test]
async fn delete_removes_the_session() {
    let fixture = fixture().await;
    let mut created = record(Duration::hours(1));
    fixture.store.create(&mut created).await.expect("create");
    fixture.store.delete(&created.id).await.expect("delete");
    assert_eq!(fixture.store.load(&created.id).await.expect("load"), None);
    assert!(raw_item(&fixture, &created.id).await.is_none());
    // Deleting what is not there is no error.
    fixture
        .store
        .delete(&created.id)
        .await
        .expect("delete again");
}

#[tokio::test]
async fn an_expired_session_is_absent_before_ttl_removes_it() {
    let fixture = fixture().await;
    let mut expired = record(Duration::seconds(-1));
    fixture.store.create(&mut expired).await.expect("create");
    assert!(
        raw_item(&fixture, &expired.id).await.is_some(),
        "the item is still in the table (TTL deletes late)"
    );
    assert_eq!(fixture.store.load(&expired.id).await.expect("load"), None);
}

#[tokio::test]
async fn create_never_overwrites_an_existing_id() {
    let fixture = fixture().await;
    let mut first = record(Duration::hours(1));
    fixture.store.create(&mut first).await.expect("create");
    let mut second = record(Duration::hours(1));
    second.id = first.id;
    second
        .data
        .insert("user".into(), serde_json::json!("mallory"));
    fixture.store.create(&mut second).await.expect("create");
    assert_ne!(second.id, first.id, "a colliding id is replaced");
    let original = fixture
        .store
        .load(&first.id)
        .await
        .expect("load")
        .expect("present");
    assert_eq!(original.data["user"], "ana");
    let other = fixture
        .store
        .load(&second.id)
        .await
        .expect("load")
        .expect("present");
    assert_eq!(other.data["user"], "mallory");
}

#[tokio::test]
async fn ensure_table_creates_the_table_with_ttl_on_expires_at_and_is_idempotent() {
    let fixture = fixture().await;
    // Twice more: an existing table with TTL on is left as it is.
    fixture.store.ensure_table().await.expect("again");
    fixture.store.ensure_table().await.expect("and again");
    let ttl = fixture
        .client
        .describe_time_to_live()
        .table_name(fixture.store.table())
        .send()
        .await
        .expect("describe TTL");
    let ttl = ttl.time_to_live_description().expect("TTL description");
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some(EXPIRES_AT));
    let table = fixture
        .client
        .describe_table()
        .table_name(fixture.store.table())
        .send()
        .await
        .expect("describe table");
    let table = table.table().expect("table");
    let key = table.key_schema();
    assert_eq!(key.len(), 1);
    assert_eq!(key[0].attribute_name(), ID);
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|billing| billing.billing_mode()),
        Some(&aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
    );
}

async fn raw_item(fixture: &Fixture, id: &Id) -> Option<HashMap<String, AttributeValue>> {
    fixture
        .client
        .get_item()
        .table_name(fixture.store.table())
        .key(ID, AttributeValue::S(id.to_string()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
}
