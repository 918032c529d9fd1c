//! Helpers for the auth tests: a movable clock, throwaway RSA keys, honest token building
//! and a JWKS server on loopback that counts its fetches.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::clock::Clock;

pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Gatehouse";
pub const CLIENT_ID: &str = "gatehouse-app-client";
/// A fixed "now" for the tests: 2026-11-25T00:00:00Z.
pub const NOW: u64 = 1_795_564_800;

/// A clock the test moves by hand.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn at(now: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(now)))
    }

    pub fn clock(&self) -> Clock {
        let now = Arc::clone(&self.0);
        Clock::from_fn(move || now.load(Ordering::SeqCst))
    }

    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

/// An RSA key made for one test, with the kid it is published under.
pub struct TestKey {
    pub kid: String,
    pub pair: KeyPair,
}

impl TestKey {
    pub fn new(kid: &str) -> Self {
        TestKey {
            kid: kid.to_string(),
            pair: KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"),
        }
    }

    /// Its public half as a JWKS entry, the way Cognito publishes one.
    pub fn jwk(&self) -> Value {
        let components = PublicKeyComponents::<Vec<u8>>::from(self.pair.public_key());
        json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&components.n),
            "e": URL_SAFE_NO_PAD.encode(&components.e),
        })
    }

    /// The public key's bytes (PKCS#1 DER), what a key-confusion attacker would HMAC with.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// An RS256 token under this key's kid.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }

    /// An RS256 signature over whatever header the test wants.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let signing_input = format!("{}.{}", b64_json(header), b64_json(claims));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

pub fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

pub fn jwks_of(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>() })
}

/// The claims of a good Cognito access token at `NOW`.
pub fn access_claims() -> Value {
    json!({
        "sub": "7d8a-subject", "iss": ISSUER, "token_use": "access", "client_id": CLIENT_ID,
        "username": "ana", "cognito:groups": ["approver", "some-other-group"],
        "exp": NOW + 3600, "iat": NOW, "nbf": NOW, "auth_time": NOW, "jti": "j1",
        "scope": "aws.cognito.signin.user.admin",
    })
}

/// The claims of a good Cognito id token at `NOW`.
pub fn id_claims() -> Value {
    json!({
        "sub": "7d8a-subject", "iss": ISSUER, "token_use": "id", "aud": CLIENT_ID,
        "cognito:username": "ana", "cognito:groups": ["operator"],
        "exp": NOW + 3600, "iat": NOW, "auth_time": NOW, "jti": "j2",
    })
}

/// Serves `jwks` at `http://127.0.0.1:PORT/{pool}/.well-known/jwks.json` (the shape moto
/// uses), counting requests. Returns the address and the counter.
pub async fn counting_jwks_server(jwks: Value) -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fetches);
    let app = Router::new().route(
        "/us-east-1_Gatehouse/.well-known/jwks.json",
        get(move || {
            let counter = Arc::clone(&counter);
            let jwks = jwks.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Json(jwks)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (
        format!("http://{address}/us-east-1_Gatehouse/.well-known/jwks.json"),
        fetches,
    )
}

/// A fresh, empty directory under the system's temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gatehouse-auth-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
