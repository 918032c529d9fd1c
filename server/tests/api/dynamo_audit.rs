//! The DynamoDB audit log against moto's DynamoDB: two servers appending at once never fork
//! the chain, and a hand-edited item is found and named.

use std::collections::HashMap;

use app::audit::AuditLog;
use app::models::audit::{AuditEntry, AuditOutcome, AuditQuery};
use aws_sdk_dynamodb::types::AttributeValue;
use server::audit::chain::{verify, ChainBreak, VerifyError};
use server::audit::dynamo::DynamoAuditLog;

use crate::moto::{unique_name, MotoServer};

fn entry(actor: &str, action: &str) -> AuditEntry {
    AuditEntry {
        actor: actor.into(),
        roles: vec!["approver".into()],
        action: action.into(),
        target: "c0ffee00-1764086645".into(),
        outcome: AuditOutcome::Success,
        request_id: format!("req-{actor}"),
        source_ip: "127.0.0.1".into(),
        details: r#"{"comment":"looks right"}"#.into(),
    }
}

/// Two logs on one table, as two Gatehouse servers behind a load balancer would have.
async fn two_servers() -> (
    aws_sdk_dynamodb::Client,
    String,
    DynamoAuditLog,
    DynamoAuditLog,
) {
    let config = MotoServer::shared().sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("audit");
    let first = DynamoAuditLog::new(client.clone(), table.clone());
    first.ensure_table().await.expect("table");
    let second = DynamoAuditLog::new(client.clone(), table.clone());
    (client, table, first, second)
}

#[tokio::test]
async fn two_servers_appending_at_once_build_one_chain() {
    let (_, _, first, second) = two_servers().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        for (name, log) in [("a", first.clone()), ("b", second.clone())] {
            tasks.spawn(async move {
                log.append(entry(&format!("{name}{i}"), "approval.decide"))
                    .await
            });
        }
    }
    let mut seqs = Vec::new();
    while let Some(done) = tasks.join_next().await {
        seqs.push(done.expect("task").expect("append").seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=80).collect::<Vec<_>>(), "no gaps, no duplicates");
    assert_eq!(verify(&first).await.expect("intact"), 80);
    assert_eq!(verify(&second).await.expect("intact"), 80);
}

#[tokio::test]
async fn search_filters_newest_first_and_pages() {
    let (_, _, log, _) = two_servers().await;
    for i in 0..12 {
        let action = if i % 2 == 0 {
            "auth.sign_in"
        } else {
            "execution.start"
        };
        log.append(entry(&format!("u{}", i % 3), action))
            .await
            .expect("append");
    }
    let query = AuditQuery {
        action: Some("execution.".into()),
        limit: 3,
        ..AuditQuery::default()
    };
    let page = log.search(&query).await.expect("search");
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![12, 10, 8]
    );
    let next = log
        .search(&AuditQuery {
            before: Some(8),
            ..query
        })
        .await
        .expect("search");
    assert_eq!(
        next.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![6, 4, 2]
    );
}

#[tokio::test]
async fn an_item_edited_by_hand_is_named() {
    let (client, table, log, _) = two_servers().await;
    for i in 0..6 {
        log.append(entry(&format!("u{i}"), "auth.sign_in"))
            .await
            .expect("append");
    }
    client
        .update_item()
        .table_name(table.as_str())
        .set_key(Some(HashMap::from([
            ("chain".to_string(), AttributeValue::S("records".into())),
            ("seq".to_string(), AttributeValue::N("4".into())),
        ])))
        .update_expression("SET actor = :who")
        .expression_attribute_values(":who", AttributeValue::S("mallory".into()))
        .send()
        .await
        .expect("hand edit");
    match verify(&log).await {
        Err(VerifyError::Broken(ChainBreak::Changed { seq: 4 })) => {}
        other => panic!("expected record 4 to be named, got {other:?}"),
    }
}

#[tokio::test]
async fn a_removed_newest_record_is_noticed() {
    let (client, table, log, _) = two_servers().await;
    for i in 0..3 {
        log.append(entry(&format!("u{i}"), "auth.sign_in"))
            .await
            .expect("append");
    }
    client
        .delete_item()
        .table_name(table.as_str())
        .set_key(Some(HashMap::from([
            ("chain".to_string(), AttributeValue::S("records".into())),
            ("seq".to_string(), AttributeValue::N("3".into())),
        ])))
        .send()
        .await
        .expect("hand delete");
    match verify(&log).await {
        Err(VerifyError::Broken(ChainBreak::Truncated { last: 2, head: 3 })) => {}
        other => panic!("expected the removal to be named, got {other:?}"),
    }
}
