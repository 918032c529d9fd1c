//! aws mode end to end: the real server signs users in against moto's Cognito (tokens
//! verified with the JWKS fetched from moto, groups as roles) and keeps sessions in moto's
//! DynamoDB. Only what moto lacks is added, in testsupport/moto/launcher.py.

use app::models::about::Mode;
use app::models::identity::Role;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use server::auth::cognito::{secret_hash, CognitoSettings};

use crate::cognito::{Pool, PASSWORD, TEMPORARY};
use crate::helpers::{cookie_pair, session_cookie, spawn, try_spawn, Spawn, TestApp};
use crate::moto::{unique_name, MotoServer};

const IDENTITY_TESTS_STATE_MACHINE: &str =
    "arn:aws:states:us-east-1:123456789012:stateMachine:identity-tests";

/// Gatehouse in aws mode on `pool`, signing in through `client`.
async fn spawn_aws(pool: &Pool, client: &CognitoSettings) -> TestApp {
    spawn_aws_with(pool, client, Vec::new()).await
}

async fn spawn_aws_with(pool: &Pool, client: &CognitoSettings, extra: Vec<String>) -> TestApp {
    let mut args = vec![
        "--cognito-user-pool-id".to_string(),
        pool.pool_id.clone(),
        "--cognito-client-id".into(),
        client.client_id.clone(),
        "--cognito-jwks-url".into(),
        format!("{}/{}/.well-known/jwks.json", pool.endpoint, pool.pool_id),
        "--session-table".into(),
        unique_name("sessions"),
        "--create-session-table".into(),
        "--audit-table".into(),
        unique_name("audit"),
        "--create-audit-table".into(),
        // Start-up makes no pipeline call; these tests need the setting only.
        "--state-machine-arn".into(),
        IDENTITY_TESTS_STATE_MACHINE.into(),
    ];
    if let Some(secret) = &client.client_secret {
        args.push("--cognito-client-secret".into());
        args.push(secret.expose().clone());
    }
    args.extend(extra);
    spawn(Spawn {
        mode: Some(Mode::Aws),
        args,
        aws: Some(MotoServer::shared().sdk_config().await),
        ..Spawn::default()
    })
    .await
}

/// An access token straight from Cognito (as an API client would get one).
async fn cognito_access_token(pool: &Pool, client: &CognitoSettings, username: &str) -> String {
    let mut request = pool
        .admin
        .initiate_auth()
        .client_id(&client.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD);
    if let Some(secret) = &client.client_secret {
        request = request.auth_parameters(
            "SECRET_HASH",
            secret_hash(secret, username, &client.client_id),
        );
    }
    let answer = request.send().await.expect("initiate auth");
    answer
        .authentication_result()
        .and_then(|result| result.access_token())
        .expect("access token")
        .to_string()
}

#[tokio::test]
async fn a_cognito_user_signs_in_and_their_groups_are_their_roles() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Approver, Role::Viewer]).await;
    for client in [&pool.confidential, &pool.public] {
        let app = spawn_aws(&pool, client).await;
        let browser = app.signed_in_client("ana", PASSWORD).await;
        let me: serde_json::Value = app
            .call(&browser, "current_user")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(me["username"], "ana");
        assert_eq!(me["roles"], serde_json::json!(["viewer", "approver"]));
        let html = app
            .get_with(&browser, "/me")
            .await
            .text()
            .await
            .expect("html");
        assert!(
            html.contains(r#"data-testid="me-roles">viewer, approver<"#),
            "{html}"
        );
        // Cognito owns the users: the admin list says so (for an admin).
        assert_eq!(app.call(&browser, "list_users").await.status(), 403);
    }
}

#[tokio::test]
async fn a_wrong_password_is_the_same_generic_refusal_in_aws_mode() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Viewer]).await;
    let app = spawn_aws(&pool, &pool.confidential).await;
    for (user, password) in [("ana", "Wrong-Password-1"), ("nobody", PASSWORD)] {
        let response = app
            .sign_in_with(&app.new_client(), user, password, "/me")
            .await;
        assert_eq!(
            response.headers()["location"],
            "/signin?error=credentials&next=%2Fme"
        );
    }
}

#[tokio::test]
async fn a_new_user_must_choose_a_password_that_meets_the_policy() {
    let pool = Pool::new().await;
    pool.new_user("nina").await;
    let app = spawn_aws(&pool, &pool.confidential).await;
    let browser = app.new_client();
    let response = app.sign_in_with(&browser, "nina", TEMPORARY, "/me").await;
    assert_eq!(
        response.headers()["location"],
        "/signin/new-password?next=%2Fme"
    );
    assert_eq!(
        app.signed_in_as(&browser).await,
        None,
        "not signed in before the new password"
    );
    let answer = |new: &'static str, confirm: &'static str| {
        browser
            .post(app.url("/auth/new-password"))
            .form(&[("new_password", new), ("confirm", confirm), ("next", "/me")])
            .send()
    };
    let mismatch = answer("Brand-New-Pass-9", "Brand-New-Pass-8")
        .await
        .expect("post");
    assert_eq!(
        mismatch.headers()["location"],
        "/signin/new-password?error=mismatch&next=%2Fme"
    );
    let weak = answer("short", "short").await.expect("post");
    assert_eq!(
        weak.headers()["location"],
        "/signin/new-password?error=rejected&next=%2Fme"
    );
    let good = answer("Brand-New-Pass-9", "Brand-New-Pass-9")
        .await
        .expect("post");
    assert_eq!(good.headers()["location"], "/me");
    let me: serde_json::Value = app
        .call(&browser, "current_user")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["username"], "nina");
}

#[tokio::test]
async fn a_new_password_answer_without_a_pending_sign_in_is_refused() {
    let pool = Pool::new().await;
    let app = spawn_aws(&pool, &pool.confidential).await;
    let response = app
        .new_client()
        .post(app.url("/auth/new-password"))
        .form(&[
            ("new_password", "Brand-New-Pass-9"),
            ("confirm", "Brand-New-Pass-9"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(
        response.headers()["location"],
        "/signin?error=expired&next=%2Fexecutions"
    );
}

// Security matrix (aws mode): a user disabled in Cognito while signed in.
#[tokio::test]
async fn a_user_disabled_in_cognito_is_refused_on_the_next_request() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Viewer]).await;
    let app = spawn_aws(&pool, &pool.public).await;
    let browser = app.signed_in_client("ana", PASSWORD).await;
    let token = cognito_access_token(&pool, &pool.public, "ana").await;
    assert_eq!(
        app.call_with_token(&token, "current_user").await.status(),
        200
    );
    pool.disable("ana").await;
    assert_eq!(app.signed_in_as(&browser).await, None);
    assert_eq!(app.get_with(&browser, "/executions").await.status(), 303);
    assert_eq!(
        app.call_with_token(&token, "current_user").await.status(),
        401
    );
}

// Security matrix (aws mode): missing cognito:groups on a role-protected route.
#[tokio::test]
async fn a_cognito_user_in_no_group_is_signed_in_but_forbidden() {
    let pool = Pool::new().await;
    pool.user("nobody", &[]).await;
    let app = spawn_aws(&pool, &pool.public).await;
    let browser = app.signed_in_client("nobody", PASSWORD).await;
    let me: serde_json::Value = app
        .call(&browser, "current_user")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["roles"], serde_json::json!([]));
    assert_eq!(app.get_with(&browser, "/executions").await.status(), 403);
    assert_eq!(app.call(&browser, "list_users").await.status(), 403);
    let token = cognito_access_token(&pool, &pool.public, "nobody").await;
    assert_eq!(
        app.call_with_token(&token, "list_users").await.status(),
        403
    );
}

#[tokio::test]
async fn a_cognito_bearer_token_works_and_one_for_another_app_client_does_not() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Admin]).await;
    let app = spawn_aws(&pool, &pool.public).await;
    let ours = cognito_access_token(&pool, &pool.public, "ana").await;
    let response = app.call_with_token(&ours, "list_users").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body, serde_json::json!("ManagedElsewhere"));
    let theirs = cognito_access_token(&pool, &pool.confidential, "ana").await;
    assert_eq!(
        app.call_with_token(&theirs, "current_user").await.status(),
        401
    );
}

#[tokio::test]
async fn sign_out_ends_the_dynamodb_session_and_revokes_the_sign_in() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Viewer]).await;
    let app = spawn_aws(&pool, &pool.confidential).await;
    let browser = app.new_client();
    let response = app.sign_in_with(&browser, "ana", PASSWORD, "/me").await;
    let cookie = cookie_pair(&session_cookie(&response).expect("session cookie"));
    assert_eq!(app.call(&browser, "current_user").await.status(), 200);
    let signed_out = browser
        .post(app.url("/auth/signout"))
        .send()
        .await
        .expect("sign out");
    assert_eq!(signed_out.headers()["location"], "/signin?signed_out=1");
    let replay = app.call_with_cookie(&cookie, "current_user").await;
    assert_eq!(replay.text().await.expect("body"), "null");
}

#[tokio::test]
async fn aws_mode_refuses_to_start_without_its_cognito_settings() {
    let Err(error) = try_spawn(Spawn {
        mode: Some(Mode::Aws),
        aws: Some(MotoServer::shared().sdk_config().await),
        ..Spawn::default()
    })
    .await
    else {
        panic!("aws mode must not start without Cognito");
    };
    assert!(
        error.to_string().contains("GATEHOUSE_COGNITO_USER_POOL_ID"),
        "{error}"
    );
}

#[tokio::test]
async fn the_about_page_reports_aws_mode() {
    let pool = Pool::new().await;
    let app = spawn_aws(&pool, &pool.public).await;
    let html = app.get("/about").await.text().await.expect("html");
    assert!(html.contains(r#"data-testid="about-mode">aws<"#), "{html}");
}

#[tokio::test]
async fn sessions_refresh_cognito_tokens_and_end_when_cognito_revokes_them() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Viewer]).await;
    // moto's tokens live an hour; refreshing 2 h before expiry means on every request.
    let extra = vec!["--token-refresh-seconds".to_string(), "7200".to_string()];
    let app = spawn_aws_with(&pool, &pool.confidential, extra).await;
    let browser = app.signed_in_client("ana", PASSWORD).await;
    for _ in 0..2 {
        let me: serde_json::Value = app
            .call(&browser, "current_user")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(me["username"], "ana", "still signed in after a refresh");
    }
    pool.global_sign_out("ana").await;
    assert_eq!(app.signed_in_as(&browser).await, None);
}
