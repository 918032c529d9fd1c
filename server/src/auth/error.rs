//! Why a token (or a key) was refused. One variant per reason, so tests and logs can tell
//! them apart; clients only ever see [`AuthError::public_message`].

/// Every refusal the verifier, the key cache and the local signer can give.
///
/// Variants never carry the token or key material: only the reason.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no token was presented")]
    MissingToken,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not RS256")]
    UnsupportedAlgorithm,
    #[error("the token header has no kid")]
    MissingKeyId,
    #[error("no key with the token's kid is published")]
    UnknownKeyId,
    #[error("the signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token was issued in the future (iat)")]
    IssuedInFuture,
    #[error("the token lacks the `{0}` claim")]
    MissingClaim(&'static str),
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is not an {expected} token")]
    WrongTokenUse { expected: &'static str },
    #[error("the access token was issued to another app client")]
    WrongClientId,
    #[error("the id token was issued for another audience")]
    WrongAudience,
    #[error("the local signing key could not be loaded or stored: {0}")]
    SigningKey(String),
}

impl AuthError {
    /// What a client is told, whatever the reason: knowing which check failed would help
    /// an attacker tune a forged token, so the real reason stays in the server's logs.
    pub fn public_message(&self) -> &'static str {
        "You are not signed in, or your sign-in is no longer valid."
    }
}

#[cfg(test)]
mod tests {
    use super::AuthError;

    #[test]
    fn the_public_message_is_the_same_for_every_reason() {
        let reasons = [
            AuthError::MissingToken,
            AuthError::BadSignature,
            AuthError::UnknownKeyId,
            AuthError::WrongTokenUse { expected: "access" },
            AuthError::SigningKey("disk full".into()),
        ];
        for reason in &reasons {
            assert_eq!(reason.public_message(), reasons[0].public_message());
        }
    }
}
