//! The verifier-level part of the security matrix: each case one test, each asserting
//! the exact refusal. Bad tokens are built honestly: real RS256/HS256 signatures from keys
//! made in the test, and hand-written base64 for `alg: none`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{json, Value};

use super::error::AuthError;
use super::jwks::{HttpJwks, KeySource};
use super::test_support::*;
use super::verifier::{TokenUse, TokenVerifier, DEFAULT_LEEWAY};
use app::models::identity::Role;

/// A verifier at `NOW` whose only published key is `key`.
fn verifier_trusting(key: &TestKey) -> TokenVerifier {
    TokenVerifier::with_options(
        ISSUER,
        CLIENT_ID,
        KeySource::InProcess(jwks_of(&[key])),
        DEFAULT_LEEWAY,
        ManualClock::at(NOW).clock(),
    )
}

fn http_verifier(url: &str, clock: &ManualClock) -> TokenVerifier {
    let source = KeySource::Http(HttpJwks::new(url).expect("HTTP client"));
    TokenVerifier::with_options(ISSUER, CLIENT_ID, source, DEFAULT_LEEWAY, clock.clock())
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn without(mut claims: Value, field: &str) -> Value {
    if let Some(object) = claims.as_object_mut() {
        object.remove(field);
    }
    claims
}

async fn refusal(verifier: &TokenVerifier, token: &str) -> AuthError {
    verifier
        .verify_access(token)
        .await
        .expect_err("the token must be refused")
}

#[tokio::test]
async fn no_token_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    assert!(matches!(
        refusal(&verifier, "").await,
        AuthError::MissingToken
    ));
    assert!(matches!(
        refusal(&verifier, "  ").await,
        AuthError::MissingToken
    ));
    assert!(matches!(
        verifier.verify_id("").await,
        Err(AuthError::MissingToken)
    ));
}

#[tokio::test]
async fn garbage_is_refused() {
    let verifier = verifier_trusting(&TestKey::new("k1"));
    for garbage in [
        "garbage",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "!!!.???.***",
        "e30.e30.e30",
    ] {
        let refused = refusal(&verifier, garbage).await;
        assert!(
            matches!(refused, AuthError::Malformed),
            "{garbage}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn alg_none_is_refused_before_any_key_is_fetched() {
    let key = TestKey::new("k1");
    let (url, fetches) = counting_jwks_server(jwks_of(&[&key])).await;
    let verifier = http_verifier(&url, &ManualClock::at(NOW));
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": "k1"});
        let token = format!("{}.{}.", b64_json(&header), b64_json(&access_claims()));
        assert!(matches!(
            refusal(&verifier, &token).await,
            AuthError::UnsupportedAlgorithm
        ));
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    // Key confusion: a verifier that let the token choose its algorithm would HMAC-check
    // this with the RSA public key's bytes, which the attacker has, and accept it.
    let key = TestKey::new("k1");
    let (url, fetches) = counting_jwks_server(jwks_of(&[&key])).await;
    let verifier = http_verifier(&url, &ManualClock::at(NOW));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".into());
    let forged_claims = with(access_claims(), "cognito:groups", json!(["admin"]));
    let token = jsonwebtoken::encode(
        &header,
        &forged_claims,
        &jsonwebtoken::EncodingKey::from_secret(&key.public_key_bytes()),
    )
    .expect("HS256 token");
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::UnsupportedAlgorithm
    ));
    assert_eq!(fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn other_asymmetric_algorithms_are_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    for alg in ["RS384", "RS512", "PS256", "ES256", "EdDSA"] {
        let token = key.sign_with_header(&json!({"alg": alg, "kid": "k1"}), &access_claims());
        assert!(
            matches!(
                refusal(&verifier, &token).await,
                AuthError::UnsupportedAlgorithm
            ),
            "{alg}"
        );
    }
}

#[tokio::test]
async fn rs256_signed_by_an_unknown_key_under_a_known_kid_is_refused() {
    let published = TestKey::new("k1");
    let attacker = TestKey::new("k1");
    let verifier = verifier_trusting(&published);
    let token = attacker.sign(&access_claims());
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::BadSignature
    ));
}

#[tokio::test]
async fn a_tampered_payload_under_a_known_kid_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let genuine = key.sign(&access_claims());
    let parts: Vec<&str> = genuine.split('.').collect();
    let promoted = with(access_claims(), "cognito:groups", json!(["admin"]));
    let tampered = format!("{}.{}.{}", parts[0], b64_json(&promoted), parts[2]);
    assert!(matches!(
        refusal(&verifier, &tampered).await,
        AuthError::BadSignature
    ));
    // And the genuine one passes, so the refusal is about the tampering.
    assert!(verifier.verify_access(&genuine).await.is_ok());
}

#[tokio::test]
async fn a_stripped_signature_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let genuine = key.sign(&access_claims());
    let unsigned = format!("{}.", genuine.rsplit_once('.').expect("three parts").0);
    assert!(matches!(
        refusal(&verifier, &unsigned).await,
        AuthError::BadSignature
    ));
}

#[tokio::test]
async fn a_missing_kid_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign_with_header(&json!({"alg": "RS256", "typ": "JWT"}), &access_claims());
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::MissingKeyId
    ));
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let verifier = verifier_trusting(&TestKey::new("k1"));
    let token = TestKey::new("k2").sign(&access_claims());
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::UnknownKeyId
    ));
}

#[tokio::test]
async fn unknown_kids_cause_at_most_one_jwks_fetch_a_minute() {
    let published = TestKey::new("k1");
    let (url, fetches) = counting_jwks_server(jwks_of(&[&published])).await;
    let clock = ManualClock::at(NOW);
    let verifier = http_verifier(&url, &clock);
    let stranger = TestKey::new("unused");
    for i in 0..10 {
        let token = stranger.sign_with_header(
            &json!({"alg": "RS256", "kid": format!("unknown-{i}")}),
            &access_claims(),
        );
        assert!(matches!(
            refusal(&verifier, &token).await,
            AuthError::UnknownKeyId
        ));
        clock.advance(5); // 50 s in all: still within the minute.
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "ten unknown kids, one fetch"
    );
    // The published key came with that one fetch: a good token needs no other.
    assert!(verifier
        .verify_access(&published.sign(&access_claims()))
        .await
        .is_ok());
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    clock.advance(11); // 61 s after the fetch
    let token = stranger.sign_with_header(
        &json!({"alg": "RS256", "kid": "unknown-x"}),
        &access_claims(),
    );
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::UnknownKeyId
    ));
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "a minute later, one more fetch"
    );
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch() {
    let (url, fetches) = counting_jwks_server(jwks_of(&[&TestKey::new("k1")])).await;
    let verifier = http_verifier(&url, &ManualClock::at(NOW));
    let stranger = TestKey::new("unused");
    let mut callers = tokio::task::JoinSet::new();
    for i in 0..10 {
        let verifier = verifier.clone();
        let token = stranger.sign_with_header(
            &json!({"alg": "RS256", "kid": format!("u{i}")}),
            &access_claims(),
        );
        callers.spawn(async move { verifier.verify_access(&token).await });
    }
    while let Some(outcome) = callers.join_next().await {
        assert!(matches!(
            outcome.expect("task"),
            Err(AuthError::UnknownKeyId)
        ));
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unreachable_jwks_endpoint_refuses_the_token() {
    // Port 9 (discard) on loopback: nothing listens there.
    let verifier = http_verifier("http://127.0.0.1:9/jwks.json", &ManualClock::at(NOW));
    let token = TestKey::new("k1").sign(&access_claims());
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::KeysUnavailable(_)
    ));
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&with(access_claims(), "exp", json!(NOW - 31)));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::Expired
    ));
}

#[tokio::test]
async fn a_token_expired_within_the_leeway_is_accepted() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&with(access_claims(), "exp", json!(NOW - 30)));
    assert!(verifier.verify_access(&token).await.is_ok());
}

#[tokio::test]
async fn a_token_without_exp_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&without(access_claims(), "exp"));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::MissingClaim("exp")
    ));
}

#[tokio::test]
async fn nbf_in_the_future_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&with(access_claims(), "nbf", json!(NOW + 31)));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::NotYetValid
    ));
    let within_leeway = key.sign(&with(access_claims(), "nbf", json!(NOW + 30)));
    assert!(verifier.verify_access(&within_leeway).await.is_ok());
}

#[tokio::test]
async fn iat_in_the_future_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&with(access_claims(), "iat", json!(NOW + 3600)));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::IssuedInFuture
    ));
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    for iss in [
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other",
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Gatehouse/",
        "",
    ] {
        let token = key.sign(&with(access_claims(), "iss", json!(iss)));
        assert!(
            matches!(refusal(&verifier, &token).await, AuthError::WrongIssuer),
            "{iss}"
        );
    }
    let token = key.sign(&without(access_claims(), "iss"));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::MissingClaim("iss")
    ));
}

#[tokio::test]
async fn an_id_token_where_an_access_token_is_required_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&id_claims());
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::WrongTokenUse { expected: "access" }
    ));
}

#[tokio::test]
async fn an_access_token_where_an_id_token_is_required_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&access_claims());
    assert!(matches!(
        verifier.verify_id(&token).await,
        Err(AuthError::WrongTokenUse { expected: "id" })
    ));
}

#[tokio::test]
async fn a_token_without_token_use_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&without(access_claims(), "token_use"));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::WrongTokenUse { .. }
    ));
}

#[tokio::test]
async fn a_wrong_client_id_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&with(access_claims(), "client_id", json!("another-app")));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::WrongClientId
    ));
    // An access token does not get in on an `aud` instead of `client_id`.
    let token = key.sign(&with(
        without(access_claims(), "client_id"),
        "aud",
        json!(CLIENT_ID),
    ));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::WrongClientId
    ));
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    for aud in [json!("another-app"), json!(["another-app"]), json!(null)] {
        let token = key.sign(&with(id_claims(), "aud", aud.clone()));
        assert!(
            matches!(
                verifier.verify_id(&token).await,
                Err(AuthError::WrongAudience)
            ),
            "{aud}"
        );
    }
}

#[tokio::test]
async fn a_valid_access_token_is_accepted_with_its_identity_and_roles() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let verified = verifier
        .verify_access(&key.sign(&access_claims()))
        .await
        .expect("a good token");
    assert_eq!(verified.token_use, TokenUse::Access);
    assert_eq!(verified.identity.subject, "7d8a-subject");
    assert_eq!(verified.identity.username, "ana");
    // "some-other-group" is not a Gatehouse role and grants nothing.
    assert_eq!(
        verified.identity.roles.iter().copied().collect::<Vec<_>>(),
        vec![Role::Approver]
    );
    assert_eq!(verified.expires_at, NOW + 3600);
    assert_eq!(verified.auth_time, Some(NOW));
}

#[tokio::test]
async fn a_valid_id_token_is_accepted_with_its_identity_and_roles() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let verified = verifier
        .verify_id(&key.sign(&id_claims()))
        .await
        .expect("a good token");
    assert_eq!(verified.token_use, TokenUse::Id);
    assert_eq!(verified.identity.username, "ana");
    assert!(verified.identity.has(Role::Operator));
    assert!(!verified.identity.has(Role::Approver));
}

#[tokio::test]
async fn missing_cognito_groups_means_no_roles() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let verified = verifier
        .verify_access(&key.sign(&without(access_claims(), "cognito:groups")))
        .await
        .expect("signed in, just without roles");
    assert!(verified.identity.roles.is_empty());
    assert!(!verified.identity.has(Role::Viewer));
}

#[tokio::test]
async fn a_token_without_a_subject_is_refused() {
    let key = TestKey::new("k1");
    let verifier = verifier_trusting(&key);
    let token = key.sign(&without(access_claims(), "sub"));
    assert!(matches!(
        refusal(&verifier, &token).await,
        AuthError::MissingClaim("sub")
    ));
}

#[tokio::test]
async fn the_jwks_address_is_independent_of_the_issuer() {
    // moto publishes keys at http://127.0.0.1:PORT/{pool}/.well-known/jwks.json while its
    // tokens say iss = https://cognito-idp.{region}.amazonaws.com/{pool}.
    let key = TestKey::new("k1");
    let (url, fetches) = counting_jwks_server(jwks_of(&[&key])).await;
    assert!(!url.starts_with(ISSUER));
    let verifier = http_verifier(&url, &ManualClock::at(NOW));
    let verified = verifier
        .verify_access(&key.sign(&access_claims()))
        .await
        .expect("accepted");
    assert_eq!(verified.identity.username, "ana");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[test]
fn the_default_leeway_is_thirty_seconds() {
    assert_eq!(DEFAULT_LEEWAY, Duration::from_secs(30));
}
