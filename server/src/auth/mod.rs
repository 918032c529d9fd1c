//! Token verification for both identity providers: one verifier checks Cognito
//! tokens (aws mode) and the tokens the local signer issues (local mode) by the same rules,
//! those of Cognito's own verifier (awslabs/aws-jwt-verify).
//!
//! - [`verifier`]: `TokenVerifier`, RS256 only, Cognito claim rules, roles from `cognito:groups`.
//! - [`jwks`]: the public keys by `kid`, fetched lazily, refreshed at most once a minute.
//! - [`local_keys`]: local mode's RSA key (0600 file in the data dir), its JWKS and token issuing.
//!
//! Sessions, sign-in pages and the router live elsewhere; they call into this module.

pub mod clock;
#[cfg(feature = "aws")]
pub mod cognito;
pub mod error;
pub mod jwks;
mod jws;
pub mod local_keys;
pub mod local_provider;
pub mod provider;
pub mod redacted;
pub mod verifier;

#[cfg(test)]
mod security_matrix;
#[cfg(test)]
mod test_support;

pub use app::models::identity::{Identity, Role};
pub use clock::Clock;
pub use error::AuthError;
pub use jwks::{HttpJwks, JwksCache, KeySource};
pub use local_keys::{jwks_handler, LocalSigner};
pub use local_provider::{LocalProvider, LocalTokenLifetimes};
pub use provider::{IdentityProvider, ProviderError, SignInOutcome, Standing, Tokens};
pub use redacted::Redacted;
pub use verifier::{TokenUse, TokenVerifier, Verified};
