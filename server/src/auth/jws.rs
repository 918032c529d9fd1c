//! The compact JWS form (`header.payload.signature`, base64url without padding): reading the
//! header before anything is trusted, and signing RS256 with an aws-lc-rs key.
//!
//! The header is parsed here rather than by jsonwebtoken because jsonwebtoken cannot even
//! represent `alg: none`; we want to refuse every algorithm but RS256 by name, before a key
//! is looked up.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::error::AuthError;

/// The only signing algorithm Gatehouse accepts (Cognito signs with it; so does local mode).
pub(crate) const RS256: &str = "RS256";

/// The header fields the verifier looks at before it trusts anything.
#[derive(Debug, Deserialize)]
pub(crate) struct UntrustedHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

/// Reads the header of a compact JWS without verifying anything.
pub(crate) fn untrusted_header(token: &str) -> Result<UntrustedHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

#[derive(Serialize)]
struct SigningHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// Serialises `claims` and signs them RS256 under `kid`.
pub(crate) fn sign_rs256(
    key: &KeyPair,
    kid: &str,
    claims: &impl Serialize,
) -> Result<String, AuthError> {
    let header = SigningHeader {
        alg: RS256,
        typ: "JWT",
        kid,
    };
    let header = serde_json::to_vec(&header).map_err(|e| AuthError::SigningKey(e.to_string()))?;
    let claims = serde_json::to_vec(claims).map_err(|e| AuthError::SigningKey(e.to_string()))?;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| AuthError::SigningKey("RSA signing failed".into()))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}
