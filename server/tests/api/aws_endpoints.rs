//! Endpoints in aws mode, against moto. Lineage reads the `gatehouse:commit` tags first and
//! names second: endpoint configs made outside the pipeline — one named freely and tagged,
//! one named after a commit and tagged with another, one named after a commit with no tag
//! (the seed's convention) — each trace to the commit the tag names, else the name. And the
//! inference API invokes only endpoints the pipeline manages.

use std::sync::atomic::{AtomicU32, Ordering};

use app::models::identity::Role;
use aws_sdk_sagemaker::types::{
    ContainerDefinition, ProductionVariant, ProductionVariantInstanceType, Tag,
};

use crate::aws_pipeline::pipeline_server;
use crate::cognito::PASSWORD;
use crate::helpers::page_text;
use crate::moto::{unique_name, MotoServer};

/// A commit ID no other test on the shared moto uses (month first, as CodeBuild writes it).
fn fresh_commit() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:08x}-12-04-2026-10-00-{:02}",
        std::process::id()
            .wrapping_mul(2_654_435_761)
            .wrapping_add(n),
        n % 60
    )
}

async fn config_and_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    model: &str,
    name: &str,
    commit_tag: Option<&str>,
) {
    sagemaker
        .create_endpoint_config()
        .endpoint_config_name(name)
        .production_variants(
            ProductionVariant::builder()
                .variant_name("AllTraffic")
                .model_name(model)
                .initial_instance_count(1)
                .instance_type(ProductionVariantInstanceType::MlT2Medium)
                .initial_variant_weight(1.0)
                .build(),
        )
        .set_tags(
            commit_tag
                .map(|commit| vec![Tag::builder().key("gatehouse:commit").value(commit).build()]),
        )
        .send()
        .await
        .expect("create endpoint config");
    sagemaker
        .create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(name)
        .send()
        .await
        .expect("create endpoint");
}

/// A model on moto (moto's runtime answers by a fixed rule on the iris features).
async fn model(sagemaker: &aws_sdk_sagemaker::Client) -> String {
    let model = unique_name("tagged-model");
    sagemaker
        .create_model()
        .model_name(&model)
        .execution_role_arn("arn:aws:iam::123456789012:role/sagemaker")
        .primary_container(
            ContainerDefinition::builder()
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/iris-model:tags")
                .build(),
        )
        .send()
        .await
        .expect("create model");
    model
}

#[tokio::test]
async fn lineage_reads_the_commit_tag_before_the_name() {
    let (pool, _, app) = pipeline_server("tags", &[]).await;
    pool.user("vic", &[Role::Viewer]).await;
    let vic = app.signed_in_client("vic", PASSWORD).await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&MotoServer::shared().sdk_config().await);
    let model = model(&sagemaker).await;

    let (tagged, untagged, misnamed) = (fresh_commit(), fresh_commit(), fresh_commit());
    let free = unique_name("blue");
    // Named freely, tagged: traced by the tag.
    config_and_endpoint(&sagemaker, &model, &free, Some(&tagged)).await;
    // Named after a commit, untagged: traced by the name.
    config_and_endpoint(&sagemaker, &model, &untagged, None).await;
    // Named after one commit, tagged with another: the tag wins.
    config_and_endpoint(&sagemaker, &model, &misnamed, Some(&tagged)).await;

    for (endpoint, commit) in [
        (&free, &tagged),
        (&untagged, &untagged),
        (&misnamed, &tagged),
    ] {
        let response = app
            .call_form(&vic, "get_endpoint", &[("name", endpoint)])
            .await;
        assert_eq!(response.status(), 200, "{endpoint}");
        let view: serde_json::Value = response.json().await.expect("json");
        assert_eq!(view["commit"]["id"], commit.as_str(), "{endpoint}: {view}");
    }
    let list = page_text(app.get_with(&vic, "/endpoints").await).await;
    for (endpoint, commit) in [
        (&free, &tagged),
        (&untagged, &untagged),
        (&misnamed, &tagged),
    ] {
        let row = list
            .split(r#"data-testid="endpoint-row""#)
            .find(|row| row.contains(&format!(r#"href="/endpoints/{endpoint}""#)))
            .unwrap_or_else(|| panic!("no row for {endpoint}: {list}"));
        assert!(
            row.contains(&format!(r#"href="/lineage/{commit}""#)),
            "{endpoint} links to {commit}: {row}"
        );
    }

    // The tagged commit ran no pipeline here, yet its lineage finds its config by the tag
    // (the freely named one first, by name order, over the one named after another commit).
    let response = app
        .call_form(&vic, "get_lineage", &[("commit", &tagged)])
        .await;
    assert_eq!(response.status(), 200);
    let chain: serde_json::Value = response.json().await.expect("json");
    let config = chain["endpoint_config"]["name"].as_str().expect("config");
    assert!(
        config == free.as_str() || config == misnamed.as_str(),
        "{chain}"
    );
}

#[tokio::test]
async fn only_the_pipelines_endpoints_can_be_invoked() {
    let (pool, _, app) = pipeline_server("invoke", &[]).await;
    pool.user("vic", &[Role::Viewer]).await;
    let token = app.access_token("vic", PASSWORD).await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&MotoServer::shared().sdk_config().await);
    let model = model(&sagemaker).await;
    // One per commit, as the seed's pipeline makes them; and one the pipeline never made.
    let seed = fresh_commit();
    let elsewhere = unique_name("team-b-endpoint");
    config_and_endpoint(&sagemaker, &model, &seed, None).await;
    config_and_endpoint(&sagemaker, &model, &elsewhere, None).await;
    let invoke = |endpoint: String| {
        let request = app
            .client
            .post(app.url(&format!(
                "/v1/invokeSagemakerAPI?sagemaker_endpoint={endpoint}"
            )))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(r#"{"data": "4.5,1.3,0.3,0.3\n5.9,3,5.1,1.8"}"#);
        async move { request.send().await.expect("invoke") }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answer = loop {
        let response = invoke(seed.clone()).await;
        // Just created, it is still Creating: not ready, try again shortly.
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            assert!(std::time::Instant::now() < deadline, "never in service");
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            continue;
        }
        assert_eq!(response.status(), 200);
        break response.json::<serde_json::Value>().await.expect("json");
    };
    // The answer is the endpoint's, as SageMaker's runtime gives it when asked directly (its
    // labels come from the moto launcher's stand-in rule, so they are not checked here), with
    // the trailing line end the sample's API never had.
    let direct = aws_sdk_sagemakerruntime::Client::new(&MotoServer::shared().sdk_config().await)
        .invoke_endpoint()
        .endpoint_name(&seed)
        .content_type("text/csv")
        .body(aws_smithy_types::Blob::new(
            b"4.5,1.3,0.3,0.3\n5.9,3,5.1,1.8".to_vec(),
        ))
        .send()
        .await
        .expect("the runtime answers");
    let direct = String::from_utf8(
        direct
            .body()
            .map(|body| body.as_ref().to_vec())
            .unwrap_or_default(),
    )
    .expect("text");
    assert_eq!(direct.lines().count(), 2, "one answer per row: {direct:?}");
    assert_eq!(answer["result"], direct.trim_end_matches(['\r', '\n']));

    // SageMaker's refusals, as the API tells them: throttling that outlasts the retries and
    // a model not ready are 429 with Retry-After, the service down is 503.
    let moto = MotoServer::shared();
    for (error, status, count, expected) in [
        ("ThrottlingException", 400, 3, 429),
        ("ModelNotReadyException", 429, 1, 429),
        ("ServiceUnavailable", 503, 3, 503),
    ] {
        moto.inject_fault(
            "InvokeEndpoint",
            error,
            status,
            count,
            &format!("/endpoints/{seed}/"),
        )
        .await;
        let response = invoke(seed.clone()).await;
        assert_eq!(response.status(), expected, "{error}");
        assert_eq!(
            response.headers().contains_key("retry-after"),
            expected == 429,
            "{error}"
        );
        let body: serde_json::Value = response.json().await.expect("json");
        assert!(
            body["message"].as_str().is_some_and(|m| m.ends_with('.')),
            "{error}: {body}"
        );
        assert_eq!(invoke(seed.clone()).await.status(), 200, "after {error}");
    }

    let refused = invoke(elsewhere.clone()).await;
    assert_eq!(refused.status(), 404);
    let message: serde_json::Value = refused.json().await.expect("json");
    assert!(
        message["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("no pipeline endpoint named {elsewhere}")),
        "{message}"
    );
    // The list names the commit's endpoint and not the other.
    let listed: serde_json::Value = app
        .client
        .get(app.url("/v1/endpoints"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("endpoints")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = listed["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(names.contains(&seed.as_str()), "{listed}");
    assert!(!names.contains(&elsewhere.as_str()), "{listed}");
}
