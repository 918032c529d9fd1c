//! The security matrix, end to end: each case is a request a real client sends to
//! a real server, and each must be refused. Token cases go through `Authorization: Bearer`
//! to `list_users` (admin) or `current_user` (any signed-in caller); tokens are forged with
//! the server's own key file where the case needs a valid signature.
//!
//! Verifier-level cases (including "an access token where an id token is required" and "an
//! unknown kid triggers at most one JWKS fetch a minute", which need an HTTP JWKS) are unit
//! tests in server/src/auth/security_matrix.rs.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::models::identity::{Identity, Role};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use server::auth::{Clock, LocalSigner, TokenUse};
use server::startup::{LOCAL_CLIENT_ID, LOCAL_ISSUER};

use crate::helpers::{cookie_pair, session_cookie, spawn_app, Scratch, TestApp};

const ONE_HOUR: Duration = Duration::from_secs(3600);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// The server's own signer (same key file), to forge tokens with valid signatures.
fn server_signer(app: &TestApp) -> LocalSigner {
    LocalSigner::load_or_create(&app.data_dir, LOCAL_ISSUER, LOCAL_CLIENT_ID).expect("signer")
}

fn admin_identity(app_subject: &str) -> Identity {
    Identity {
        subject: app_subject.to_string(),
        username: "admin".into(),
        roles: BTreeSet::from([Role::Admin]),
    }
}

async fn admin_subject(app: &TestApp) -> String {
    app.users()
        .find("admin")
        .await
        .expect("find")
        .expect("admin exists")
        .subject
}

/// An access (or id) token naming the real admin, signed by `signer`.
async fn forged_admin_token(app: &TestApp, signer: &LocalSigner, token_use: TokenUse) -> String {
    let subject = admin_subject(app).await;
    signer
        .issue(&admin_identity(&subject), token_use, ONE_HOUR)
        .expect("token")
        .into_inner()
}

fn b64(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
}

/// Asserts the API refuses `token` as unauthenticated.
async fn assert_refused_token(app: &TestApp, token: &str) {
    for function in ["list_users", "current_user"] {
        let response = app.call_with_token(token, function).await;
        assert_eq!(response.status(), 401, "{function} must refuse");
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#
        );
        let body: serde_json::Value = response.json().await.expect("json");
        assert!(body["error"].as_str().is_some(), "{body}");
    }
}

async fn assert_unauthenticated(app: &TestApp, client: &reqwest::Client) {
    let response = app.call(client, "list_users").await;
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body, serde_json::json!("NotSignedIn"));
    let me = app.call(client, "current_user").await;
    assert_eq!(me.text().await.expect("body"), "null");
}

// 1
#[tokio::test]
async fn no_token_and_no_session_is_401() {
    let app = spawn_app().await;
    assert_unauthenticated(&app, &app.new_client()).await;
}

// 2
#[tokio::test]
async fn a_garbage_token_is_refused() {
    let app = spawn_app().await;
    assert_refused_token(&app, "not-a-jwt").await;
    assert_refused_token(&app, "a.b.c").await;
}

// 3
#[tokio::test]
async fn an_authorization_header_that_is_not_bearer_is_refused_not_ignored() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let response = client
        .post(app.url("/api/current_user"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        401,
        "a bad Authorization header never falls back to the cookie"
    );
}

// 4
#[tokio::test]
async fn alg_none_is_refused() {
    let app = spawn_app().await;
    let subject = admin_subject(&app).await;
    let header = b64(&serde_json::json!({"alg": "none", "typ": "JWT"}));
    let claims = b64(&serde_json::json!({
        "iss": LOCAL_ISSUER, "sub": subject, "token_use": "access", "client_id": LOCAL_CLIENT_ID,
        "username": "admin", "cognito:groups": ["admin"], "exp": now() + 3600, "iat": now()
    }));
    assert_refused_token(&app, &format!("{header}.{claims}.")).await;
}

// 5
#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let app = spawn_app().await;
    let subject = admin_subject(&app).await;
    let jwks: serde_json::Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .expect("jwks");
    let public_jwk = serde_json::to_vec(&jwks["keys"][0]).expect("jwk");
    let kid = jwks["keys"][0]["kid"].as_str().expect("kid").to_string();
    let header = b64(&serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": kid}));
    let claims = b64(&serde_json::json!({
        "iss": LOCAL_ISSUER, "sub": subject, "token_use": "access", "client_id": LOCAL_CLIENT_ID,
        "username": "admin", "cognito:groups": ["admin"], "exp": now() + 3600, "iat": now()
    }));
    let input = format!("{header}.{claims}");
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &public_jwk);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    assert_refused_token(&app, &format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))).await;
}

// 6
#[tokio::test]
async fn a_token_signed_by_an_unknown_key_is_refused() {
    let app = spawn_app().await;
    let elsewhere = Scratch::new();
    let stranger =
        LocalSigner::load_or_create(elsewhere.path(), LOCAL_ISSUER, LOCAL_CLIENT_ID).expect("key");
    let token = forged_admin_token(&app, &stranger, TokenUse::Access).await;
    assert_refused_token(&app, &token).await;
}

// 7
#[tokio::test]
async fn a_known_kid_with_a_tampered_payload_is_refused() {
    let app = spawn_app().await;
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let token = app.access_token("vera", &password).await;
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("json");
    claims["cognito:groups"] = serde_json::json!(["admin"]);
    parts[1] = b64(&claims);
    assert_refused_token(&app, &parts.join(".")).await;
}

// 8
#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let app = spawn_app().await;
    let token = app.access_token("admin", &app.admin_password).await;
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[0] = b64(&serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "no-such-key"}));
    assert_refused_token(&app, &parts.join(".")).await;
}

// 9
#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let two_hours_ago = now() - 7200;
    let signer = server_signer(&app).with_clock(Clock::from_fn(move || two_hours_ago));
    let token = forged_admin_token(&app, &signer, TokenUse::Access).await;
    assert_refused_token(&app, &token).await;
}

// 10
#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let app = spawn_app().await;
    let in_an_hour = now() + 3600;
    let signer = server_signer(&app).with_clock(Clock::from_fn(move || in_an_hour));
    let token = forged_admin_token(&app, &signer, TokenUse::Access).await;
    assert_refused_token(&app, &token).await;
}

// 11
#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let app = spawn_app().await;
    let signer = LocalSigner::load_or_create(
        &app.data_dir,
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other",
        LOCAL_CLIENT_ID,
    )
    .expect("signer");
    let token = forged_admin_token(&app, &signer, TokenUse::Access).await;
    assert_refused_token(&app, &token).await;
}

// 12
#[tokio::test]
async fn an_id_token_where_an_access_token_is_required_is_refused() {
    let app = spawn_app().await;
    let signer = server_signer(&app);
    let token = forged_admin_token(&app, &signer, TokenUse::Id).await;
    assert_refused_token(&app, &token).await;
}

// 13
#[tokio::test]
async fn a_token_for_another_app_client_is_refused() {
    let app = spawn_app().await;
    let signer = LocalSigner::load_or_create(&app.data_dir, LOCAL_ISSUER, "someone-elses-client")
        .expect("signer");
    let token = forged_admin_token(&app, &signer, TokenUse::Access).await;
    assert_refused_token(&app, &token).await;
}

// 14
#[tokio::test]
async fn a_token_without_groups_grants_no_role() {
    let app = spawn_app().await;
    let subject = admin_subject(&app).await;
    // The real admin's subject, but no cognito:groups claim. Local users always have a role,
    // so local standing sees the token's roles differ from the stored ones and refuses the
    // token outright (401); the aws-mode suite has a Cognito user in no group, who is
    // signed in but gets 403.
    let nobody = Identity {
        subject,
        username: "admin".into(),
        roles: BTreeSet::new(),
    };
    let token = server_signer(&app)
        .issue(&nobody, TokenUse::Access, ONE_HOUR)
        .expect("token");
    assert_refused_token(&app, token.expose()).await;
}

// 15
#[tokio::test]
async fn a_viewer_calling_an_admin_route_directly_is_403() {
    let app = spawn_app().await;
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let token = app.access_token("vera", &password).await;
    let response = app.call_with_token(&token, "list_users").await;
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"Forbidden": {"required": "admin"}})
    );

    let client = app.signed_in_client("vera", &password).await;
    assert_eq!(app.call(&client, "list_users").await.status(), 403);
}

// 16
#[tokio::test]
async fn approver_and_operator_are_not_admin_on_pages_either() {
    let app = spawn_app().await;
    for (name, role) in [("apu", Role::Approver), ("opal", Role::Operator)] {
        let password = app.add_user(name, &[role]).await;
        let client = app.signed_in_client(name, &password).await;
        for path in ["/admin/users", "/audit"] {
            let page = client.get(app.url(path)).send().await.expect("page");
            assert_eq!(page.status(), 403, "{name} on {path}");
            let html = page.text().await.expect("html");
            assert!(html.contains(r#"data-testid="forbidden""#), "{html}");
        }
    }
}

// 17: viewers may look at approvals but not read the audit log or decide.
#[tokio::test]
async fn a_viewer_is_403_on_the_audit_page_and_on_deciding() {
    let app = spawn_app().await;
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let client = app.signed_in_client("vera", &password).await;
    assert_eq!(app.get_with(&client, "/approvals").await.status(), 200);
    assert_eq!(app.get_with(&client, "/audit").await.status(), 403);
    let decide = app
        .call_form(
            &client,
            "decide",
            &[
                ("id", "c0ffee00-1"),
                ("verdict", "approve"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(decide.status(), 403);
}

// 18
#[tokio::test]
async fn a_session_cookie_replayed_after_sign_out_is_anonymous() {
    let app = spawn_app().await;
    let client = app.new_client();
    let response = app
        .sign_in_with(&client, "admin", &app.admin_password, "/me")
        .await;
    let cookie = cookie_pair(&session_cookie(&response).expect("session cookie"));
    client
        .post(app.url("/auth/signout"))
        .send()
        .await
        .expect("sign out");
    let replay = app.call_with_cookie(&cookie, "list_users").await;
    assert_eq!(replay.status(), 401);
}

// 19
#[tokio::test]
async fn a_session_id_planted_before_sign_in_never_becomes_signed_in() {
    let app = spawn_app().await;
    // A well-formed id the attacker chose (tower-sessions ids are base64 of 16 bytes).
    let planted = "gatehouse_session=AAAAAAAAAAAAAAAAAAAAAA";
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client
        .post(app.url("/auth/signin"))
        .header("cookie", planted)
        .form(&[
            ("username", "admin"),
            ("password", app.admin_password.as_str()),
            ("next", "/me"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), 303);
    let issued = response.headers()["set-cookie"].to_str().expect("cookie");
    assert!(!issued.starts_with(planted), "the id was rotated: {issued}");
    let as_victim = app.call_with_cookie(planted, "list_users").await;
    assert_eq!(as_victim.status(), 401);
}

// 20
#[tokio::test]
async fn a_cross_site_post_to_a_server_function_is_refused() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let response = client
        .post(app.url("/api/list_users"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);
    let text = response.text().await.expect("text");
    assert!(text.contains("another site"), "{text}");
}

// 21
#[tokio::test]
async fn a_cross_site_sign_in_or_sign_out_post_is_refused() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let sign_out = client
        .post(app.url("/auth/signout"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("request");
    assert_eq!(sign_out.status(), 403);
    assert_eq!(
        app.call(&client, "list_users").await.status(),
        200,
        "still signed in"
    );
    let login_csrf = app
        .new_client()
        .post(app.url("/auth/signin"))
        .header("origin", "http://evil.example")
        .form(&[
            ("username", "admin"),
            ("password", app.admin_password.as_str()),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(login_csrf.status(), 403);
}

// 22
#[tokio::test]
async fn a_get_that_tries_to_change_state_is_refused() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    for path in [
        "/auth/signout",
        "/auth/signin",
        "/auth/token",
        "/auth/new-password",
    ] {
        let response = client.get(app.url(path)).send().await.expect("request");
        assert_eq!(response.status(), 405, "{path}");
    }
    assert_eq!(
        app.call(&client, "list_users").await.status(),
        200,
        "still signed in"
    );
}

// 23
#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_even_for_the_right_one() {
    let app = spawn_app().await;
    let client = app.new_client();
    let attempt = |password: &'static str| {
        client
            .post(app.url("/auth/token"))
            .json(&serde_json::json!({"username": "admin", "password": password}))
            .send()
    };
    // The policy lets three failures through undelayed; the next attempt must wait.
    for _ in 0..3 {
        let response = attempt("wrong password").await.expect("request");
        assert_eq!(response.status(), 401);
    }
    let response = client
        .post(app.url("/auth/token"))
        .json(&serde_json::json!({"username": "admin", "password": app.admin_password}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!(wait >= 1, "{wait}");
    let form = app
        .sign_in_with(&app.new_client(), "admin", &app.admin_password, "/me")
        .await;
    let location = form.headers()["location"].to_str().expect("location");
    assert!(
        location.starts_with("/signin?error=throttled"),
        "{location}"
    );
}

// 24
#[tokio::test]
async fn a_user_deleted_while_signed_in_is_refused_on_the_next_request() {
    let app = spawn_app().await;
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let client = app.signed_in_client("vera", &password).await;
    let token = app.access_token("vera", &password).await;
    assert_eq!(app.call(&client, "current_user").await.status(), 200);
    app.users().remove("vera").await.expect("remove");
    assert_eq!(app.signed_in_as(&client).await, None);
    let page = app.get_with(&client, "/executions").await;
    assert_eq!(page.status(), 303, "back to sign-in");
    assert_eq!(
        app.call_with_token(&token, "current_user").await.status(),
        401
    );
}

// 25
#[tokio::test]
async fn a_user_whose_roles_changed_must_sign_in_again() {
    let app = spawn_app().await;
    let password = app.add_user("ada", &[Role::Admin]).await;
    let client = app.signed_in_client("ada", &password).await;
    assert_eq!(app.call(&client, "list_users").await.status(), 200);
    app.users()
        .set_roles("ada", BTreeSet::from([Role::Viewer]))
        .await
        .expect("demote");
    assert_eq!(app.call(&client, "list_users").await.status(), 401);
}

// 26
#[tokio::test]
async fn a_user_recreated_under_the_same_name_does_not_inherit_the_old_sessions() {
    let app = spawn_app().await;
    let password = app.add_user("ada", &[Role::Admin]).await;
    let client = app.signed_in_client("ada", &password).await;
    app.users().remove("ada").await.expect("remove");
    app.add_user("ada", &[Role::Admin]).await;
    assert_eq!(app.call(&client, "list_users").await.status(), 401);
}

// 27
#[tokio::test]
async fn the_sign_in_page_is_not_an_open_redirect() {
    let app = spawn_app().await;
    for next in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let response = app
            .sign_in_with(&app.new_client(), "admin", &app.admin_password, next)
            .await;
        assert_eq!(response.headers()["location"], "/executions", "{next}");
    }
}

// 28
#[tokio::test]
async fn an_anonymous_page_view_never_renders_a_protected_page() {
    let app = spawn_app().await;
    for path in ["/executions", "/approvals", "/audit", "/admin/users", "/me"] {
        let response = app.get_with(&app.new_client(), path).await;
        assert_eq!(response.status(), 303, "{path}");
    }
}
