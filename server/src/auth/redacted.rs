//! A wrapper that keeps secrets (tokens, keys) out of `Debug` output and therefore out of logs.

use std::fmt;

/// Holds a secret; `Debug` prints `[redacted]`. Read it with [`Redacted::expose`], at the one
/// place that needs the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    pub fn new(secret: T) -> Self {
        Redacted(secret)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::Redacted;

    #[test]
    fn debug_never_shows_the_secret() {
        let token = Redacted::new("eyJhbGciOiJSUzI1NiJ9.secret".to_string());
        assert_eq!(format!("{token:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&token)), "Some([redacted])");
    }
}
