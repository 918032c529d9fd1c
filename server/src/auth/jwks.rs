//! The verifier's public keys, by `kid`.
//!
//! Keys are fetched lazily, on the first token. A token whose `kid` is not in the cache
//! triggers a refresh (keys rotate), but at most once a minute: concurrent callers wait for
//! the one fetch in flight, and further unknown kids within the minute are refused without
//! fetching, so a stream of forged kids cannot turn us into a load generator against the JWKS
//! endpoint (the approach of aws-jwt-verify and of crates.io's trusted-publishing key store).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Uri;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::clock::Clock;
use super::error::AuthError;
use super::jws::RS256;

/// The shortest time between two refreshes of the key set.
pub const MIN_REFRESH_INTERVAL_SECS: u64 = 60;

/// How long one JWKS fetch may take before the token is refused.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the public keys come from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// A JWKS document over HTTP(S): Cognito's
    /// `https://cognito-idp.{region}.amazonaws.com/{poolId}/.well-known/jwks.json`, or a test
    /// server's address, which need not match the issuer the tokens carry.
    Http(HttpJwks),
    /// A JWKS document held in the process: local mode's own public key.
    InProcess(serde_json::Value),
}

/// A JWKS document fetched over HTTP(S): hyper, rustls with the aws-lc-rs provider passed
/// explicitly (no process-wide provider needed), the system's root certificates.
#[derive(Clone)]
pub struct HttpJwks {
    url: Uri,
    /// Behind an `Arc`: the client is large, and clones share its connection pool.
    client: Arc<Client<HttpsConnector<HttpConnector>, Empty<Bytes>>>,
}

/// A JWKS document is a few kilobytes; anything much larger is not one.
const MAX_JWKS_BYTES: usize = 1 << 20;

impl HttpJwks {
    pub fn new(url: &str) -> Result<Self, AuthError> {
        let url: Uri = url
            .parse()
            .map_err(|e| AuthError::KeysUnavailable(format!("JWKS address: {e}")))?;
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| AuthError::KeysUnavailable(format!("TLS roots: {e}")))?
            // http too: test servers (moto) publish keys on plain-http loopback.
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(HttpJwks {
            url,
            client: Arc::new(client),
        })
    }

    pub fn url(&self) -> String {
        self.url.to_string()
    }

    async fn fetch(&self) -> Result<serde_json::Value, AuthError> {
        let unavailable =
            |what: &str, e: &dyn fmt::Display| AuthError::KeysUnavailable(format!("{what}: {e}"));
        let request = async {
            let response = self
                .client
                .get(self.url.clone())
                .await
                .map_err(|e| unavailable("request", &e))?;
            if !response.status().is_success() {
                return Err(unavailable("status", &response.status()));
            }
            Limited::new(response.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await
                .map(|body| body.to_bytes())
                .map_err(|e| unavailable("body", &e))
        };
        let body = tokio::time::timeout(FETCH_TIMEOUT, request)
            .await
            .map_err(|_| AuthError::KeysUnavailable("timed out".into()))??;
        serde_json::from_slice(&body).map_err(|e| unavailable("JSON", &e))
    }
}

impl fmt::Debug for HttpJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpJwks").field("url", &self.url).finish()
    }
}

impl KeySource {
    async fn fetch(&self) -> Result<serde_json::Value, AuthError> {
        match self {
            KeySource::Http(http) => http.fetch().await,
            KeySource::InProcess(jwks) => Ok(jwks.clone()),
        }
    }
}

/// One entry of a JWKS document, as far as we read it.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: String,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    n: String,
    e: String,
}

/// The RS256 signing keys of a JWKS document, by kid. Entries that are not RSA signature
/// keys for RS256 (or that we cannot read) are skipped, not fatal: a pool may publish others.
fn signing_keys(document: &serde_json::Value) -> Result<HashMap<String, DecodingKey>, AuthError> {
    let entries = document
        .get("keys")
        .and_then(|keys| keys.as_array())
        .ok_or_else(|| {
            AuthError::KeysUnavailable("the JWKS document has no `keys` array".into())
        })?;
    let mut keys = HashMap::new();
    for entry in entries {
        let Ok(jwk) = Jwk::deserialize(entry) else {
            continue;
        };
        let rs256_signing_key = jwk.kty == "RSA"
            && jwk.use_.as_deref() == Some("sig")
            && jwk.alg.as_deref() == Some(RS256);
        if !rs256_signing_key {
            continue;
        }
        if let Ok(key) = DecodingKey::from_rsa_components(&jwk.n, &jwk.e) {
            keys.insert(jwk.kid, key);
        }
    }
    Ok(keys)
}

/// The key cache. Share one per issuer (it lives inside `TokenVerifier`, which is cheap to
/// clone).
pub struct JwksCache {
    source: KeySource,
    clock: Clock,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// When the last refresh started (`None`: never). Held across the fetch, so concurrent
    /// callers share it instead of fetching again.
    last_refresh: Mutex<Option<u64>>,
}

impl JwksCache {
    pub fn new(source: KeySource, clock: Clock) -> Self {
        JwksCache {
            source,
            clock,
            keys: RwLock::new(HashMap::new()),
            last_refresh: Mutex::new(None),
        }
    }

    /// The key for `kid`, refreshing the set if it is unknown and no refresh started in the
    /// last minute.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        let mut last_refresh = self.last_refresh.lock().await;
        // Another caller may have refreshed while we waited for the lock.
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        let now = self.clock.now();
        if let Some(last) = *last_refresh {
            if now.saturating_sub(last) < MIN_REFRESH_INTERVAL_SECS {
                return Err(AuthError::UnknownKeyId);
            }
        }
        // Counted before fetching, so a failing endpoint is not retried more than once a
        // minute either.
        *last_refresh = Some(now);
        let document = self.source.fetch().await?;
        let fresh = signing_keys(&document)?;
        let found = fresh.get(kid).cloned();
        *self.keys.write().await = fresh;
        found.ok_or(AuthError::UnknownKeyId)
    }
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{signing_keys, AuthError};

    #[test]
    fn only_rsa_rs256_signature_keys_are_taken() {
        let n = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
        let document = json!({"keys": [
            {"kty": "RSA", "kid": "good", "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "encryption", "use": "enc", "alg": "RS256", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "ps256", "use": "sig", "alg": "PS256", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "no-alg", "use": "sig", "n": n, "e": "AQAB"},
            {"kty": "EC", "kid": "ec", "use": "sig", "alg": "ES256", "crv": "P-256", "x": "x", "y": "y"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}
        ]});
        let keys = signing_keys(&document).expect("a JWKS document");
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["good"]);
        assert!(matches!(
            signing_keys(&json!({"nokeys": []})),
            Err(AuthError::KeysUnavailable(_))
        ));
    }
}
