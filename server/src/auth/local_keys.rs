//! Local mode's token signer: an RSA-2048 key generated on first start and kept in the data
//! dir (PKCS#8 DER, file mode 0600), its public half published as a JWKS, and Cognito-shaped
//! tokens signed with it, so the one `TokenVerifier` checks local and Cognito tokens alike.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;

use super::clock::Clock;
use super::error::AuthError;
use super::jwks::KeySource;
use super::jws::{sign_rs256, RS256};
use super::redacted::Redacted;
use super::verifier::{TokenUse, TokenVerifier, DEFAULT_LEEWAY};
use app::models::identity::Identity;

/// The key file's name inside the data dir.
pub const KEY_FILE_NAME: &str = "jwt-signing-key.der";

/// Signs local mode's tokens. Share it behind an `Arc` (the JWKS handler takes one).
pub struct LocalSigner {
    key: Redacted<KeyPair>,
    kid: String,
    public_jwk: serde_json::Value,
    issuer: String,
    client_id: String,
    clock: Clock,
}

impl LocalSigner {
    /// Loads the key from `<data_dir>/jwt-signing-key.der`, or generates and stores one on
    /// first start. Tokens carry `iss = issuer` and are issued to app client `client_id`.
    pub fn load_or_create(
        data_dir: &Path,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Result<Self, AuthError> {
        let key = load_or_create_key(data_dir)?;
        let components = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
        let n = URL_SAFE_NO_PAD.encode(&components.n);
        let e = URL_SAFE_NO_PAD.encode(&components.e);
        let kid = jwk_thumbprint(&n, &e);
        let public_jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "alg": RS256,
            "kid": kid,
            "n": n,
            "e": e,
        });
        Ok(LocalSigner {
            key: Redacted::new(key),
            kid,
            public_jwk,
            issuer: issuer.into(),
            client_id: client_id.into(),
            clock: Clock::system(),
        })
    }

    /// The same signer with another clock (tests issue tokens "in the past").
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The key id: the key's RFC 7638 thumbprint, so it changes exactly when the key does.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The public JWKS document, as served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": [self.public_jwk.clone()] })
    }

    /// The verifier's key source for local mode: this key, without an HTTP round trip.
    pub fn key_source(&self) -> KeySource {
        KeySource::InProcess(self.jwks())
    }

    /// A verifier for this signer's tokens, on the signer's clock.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::with_options(
            self.issuer.clone(),
            self.client_id.clone(),
            self.key_source(),
            DEFAULT_LEEWAY,
            self.clock.clone(),
        )
    }

    /// Signs a token for `identity` valid for `ttl`, with the claims Cognito writes.
    pub fn issue(
        &self,
        identity: &Identity,
        token_use: TokenUse,
        ttl: Duration,
    ) -> Result<Redacted<String>, AuthError> {
        let now = self.clock.now();
        let (client_id, aud, username, cognito_username) = match token_use {
            TokenUse::Access => (
                Some(self.client_id.as_str()),
                None,
                Some(identity.username.as_str()),
                None,
            ),
            TokenUse::Id => (
                None,
                Some(self.client_id.as_str()),
                None,
                Some(identity.username.as_str()),
            ),
        };
        let groups: Vec<&str> = identity.roles.iter().map(|role| role.as_str()).collect();
        let claims = IssuedClaims {
            iss: &self.issuer,
            sub: &identity.subject,
            token_use: token_use.as_str(),
            client_id,
            aud,
            username,
            cognito_username,
            // Cognito leaves the claim out for a user in no group; so do we.
            groups: (!groups.is_empty()).then_some(groups),
            exp: now.saturating_add(ttl.as_secs()),
            iat: now,
            nbf: now,
            auth_time: now,
            jti: random_jti()?,
        };
        sign_rs256(self.key.expose(), &self.kid, &claims).map(Redacted::new)
    }
}

impl std::fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSigner")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("key", &self.key)
            .finish()
    }
}

/// `GET /.well-known/jwks.json` in local mode. The router mounts it with the signer as state.
pub async fn jwks_handler(State(signer): State<Arc<LocalSigner>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(signer.jwks()),
    )
}

/// The claims of a local token, named and shaped as Cognito's.
#[derive(Serialize)]
struct IssuedClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    token_use: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(rename = "cognito:username", skip_serializing_if = "Option::is_none")]
    cognito_username: Option<&'a str>,
    #[serde(rename = "cognito:groups", skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<&'a str>>,
    exp: u64,
    iat: u64,
    nbf: u64,
    auth_time: u64,
    jti: String,
}

fn random_jti() -> Result<String, AuthError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| AuthError::SigningKey("no randomness for jti".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
fn jwk_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn key_error(what: &str, path: &Path, e: impl std::fmt::Display) -> AuthError {
    AuthError::SigningKey(format!("{what} {}: {e}", path.display()))
}

fn load_or_create_key(data_dir: &Path) -> Result<KeyPair, AuthError> {
    let path = data_dir.join(KEY_FILE_NAME);
    match fs::read(&path) {
        Ok(der) => {
            warn_if_readable_by_others(&path);
            KeyPair::from_pkcs8(&der).map_err(|e| key_error("unreadable key in", &path, e))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => create_key(data_dir, &path),
        Err(e) => Err(key_error("cannot read", &path, e)),
    }
}

/// Generates a key and publishes it at `path` atomically: written to a private temporary
/// file first, then hard-linked into place, which fails rather than overwrite if another
/// process won the race (we then use theirs).
fn create_key(data_dir: &Path, path: &Path) -> Result<KeyPair, AuthError> {
    fs::create_dir_all(data_dir).map_err(|e| key_error("cannot create", data_dir, e))?;
    let key = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| AuthError::SigningKey("RSA key generation failed".into()))?;
    let pkcs8 = key
        .as_der()
        .map_err(|_| AuthError::SigningKey("PKCS#8 export failed".into()))?;
    let temporary = data_dir.join(format!(".{KEY_FILE_NAME}.{}.tmp", std::process::id()));
    let written = write_private_file(&temporary, pkcs8.as_ref());
    let published = written.and_then(|()| fs::hard_link(&temporary, path));
    let _ = fs::remove_file(&temporary);
    match published {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated the local JWT signing key");
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => load_or_create_key(data_dir),
        Err(e) => Err(key_error("cannot store the key at", path, e)),
    }
}

/// Creates `path` with mode 0600 from the start (no window in which it is world-readable).
fn write_private_file(path: &PathBuf, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = fs::metadata(path) {
            if metadata.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the JWT signing key file is readable by other users; chmod 600 it");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::test_support::{temp_dir, ManualClock, NOW};
    use super::*;
    use app::models::identity::Role;

    const ISSUER: &str = "http://127.0.0.1:3000";
    const CLIENT_ID: &str = "gatehouse-local";

    fn ana(roles: &[Role]) -> Identity {
        Identity {
            subject: "local-user-1".into(),
            username: "ana".into(),
            roles: roles.iter().copied().collect(),
        }
    }

    #[test]
    fn the_key_file_is_created_private_and_reused_on_restart() {
        let data_dir = temp_dir("keyfile");
        let first = LocalSigner::load_or_create(&data_dir, ISSUER, CLIENT_ID).expect("first start");
        let path = data_dir.join(KEY_FILE_NAME);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).expect("key file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        }
        let stored = fs::read(&path).expect("key file");
        assert!(KeyPair::from_pkcs8(&stored).is_ok(), "PKCS#8 DER");

        let second = LocalSigner::load_or_create(&data_dir, ISSUER, CLIENT_ID).expect("restart");
        assert_eq!(first.kid(), second.kid());
        assert_eq!(
            fs::read(&path).expect("key file"),
            stored,
            "not regenerated"
        );
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(&data_dir).expect("data dir").count(), 1);

        let elsewhere = LocalSigner::load_or_create(&temp_dir("other"), ISSUER, CLIENT_ID)
            .expect("another data dir");
        assert_ne!(first.kid(), elsewhere.kid());
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_not_a_silent_new_key() {
        let data_dir = temp_dir("corrupt");
        fs::write(data_dir.join(KEY_FILE_NAME), b"not a key").expect("write");
        let refused = LocalSigner::load_or_create(&data_dir, ISSUER, CLIENT_ID);
        assert!(matches!(refused, Err(AuthError::SigningKey(_))));
    }

    #[test]
    fn the_kid_is_the_rfc7638_thumbprint() {
        // The example of RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            jwk_thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[tokio::test]
    async fn local_tokens_pass_the_same_verifier() {
        let clock = ManualClock::at(NOW);
        let signer = LocalSigner::load_or_create(&temp_dir("issue"), ISSUER, CLIENT_ID)
            .expect("signer")
            .with_clock(clock.clock());
        let verifier = signer.verifier();
        let identity = ana(&[Role::Approver, Role::Operator]);

        let access = signer
            .issue(&identity, TokenUse::Access, Duration::from_secs(900))
            .expect("access token");
        let verified = verifier
            .verify_access(access.expose())
            .await
            .expect("accepted");
        assert_eq!(verified.identity, identity);
        assert_eq!(verified.expires_at, NOW + 900);

        let id = signer
            .issue(&identity, TokenUse::Id, Duration::from_secs(900))
            .expect("id token");
        assert_eq!(
            verifier
                .verify_id(id.expose())
                .await
                .expect("accepted")
                .identity,
            identity
        );
        // Each kind only where it is asked for.
        let as_id = verifier.verify_id(access.expose()).await;
        assert!(
            matches!(as_id, Err(AuthError::WrongTokenUse { expected: "id" })),
            "{as_id:?}"
        );
        let as_access = verifier.verify_access(id.expose()).await;
        assert!(
            matches!(
                as_access,
                Err(AuthError::WrongTokenUse { expected: "access" })
            ),
            "{as_access:?}"
        );

        clock.advance(900 + 31);
        assert!(matches!(
            verifier.verify_access(access.expose()).await,
            Err(AuthError::Expired)
        ));
    }

    #[tokio::test]
    async fn a_user_in_no_group_gets_a_token_without_roles() {
        let signer =
            LocalSigner::load_or_create(&temp_dir("noroles"), ISSUER, CLIENT_ID).expect("signer");
        let token = signer
            .issue(&ana(&[]), TokenUse::Access, Duration::from_secs(60))
            .expect("token");
        let payload = token.expose().split('.').nth(1).expect("payload");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64"))
                .expect("JSON");
        assert!(claims.get("cognito:groups").is_none());
        for claim in [
            "iss",
            "sub",
            "token_use",
            "client_id",
            "username",
            "exp",
            "iat",
            "nbf",
            "jti",
            "auth_time",
        ] {
            assert!(claims.get(claim).is_some(), "{claim}");
        }
        let verified = signer
            .verifier()
            .verify_access(token.expose())
            .await
            .expect("accepted");
        assert_eq!(verified.identity.roles, BTreeSet::new());
    }

    #[tokio::test]
    async fn the_jwks_handler_publishes_only_the_public_key() {
        let signer = Arc::new(
            LocalSigner::load_or_create(&temp_dir("jwks"), ISSUER, CLIENT_ID).expect("signer"),
        );
        let response = jwks_handler(State(Arc::clone(&signer)))
            .await
            .into_response();
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        let jwks: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let key = &jwks["keys"][0];
        assert_eq!(key["kid"], signer.kid());
        assert_eq!(
            (
                key["kty"].as_str(),
                key["use"].as_str(),
                key["alg"].as_str()
            ),
            (Some("RSA"), Some("sig"), Some("RS256"))
        );
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{private}");
        }
    }

    #[test]
    fn debug_output_shows_no_key_or_token() {
        let signer =
            LocalSigner::load_or_create(&temp_dir("debug"), ISSUER, CLIENT_ID).expect("signer");
        let token = signer
            .issue(
                &ana(&[Role::Admin]),
                TokenUse::Access,
                Duration::from_secs(60),
            )
            .expect("token");
        assert_eq!(format!("{token:?}"), "[redacted]");
        let debug = format!("{signer:?}");
        assert!(
            debug.contains("[redacted]") && debug.contains(signer.kid()),
            "{debug}"
        );
        assert!(!debug.contains(token.expose().as_str()));
    }
}
