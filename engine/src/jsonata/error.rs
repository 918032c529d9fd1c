//! JSONata's errors: the code the JSONata specification gives each failure (`S…` while
//! parsing, `T…` for a value of the wrong type, `D…` while evaluating) and a sentence that
//! says what went wrong and where.

use std::fmt;

/// The error codes of the JSONata reference implementation, plus the few this evaluator
/// adds for its own limits (`U…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    S0101,
    S0102,
    S0103,
    S0104,
    S0105,
    S0106,
    S0201,
    S0202,
    S0203,
    S0204,
    S0207,
    S0208,
    S0209,
    S0210,
    S0211,
    S0212,
    S0213,
    S0214,
    S0215,
    S0216,
    S0217,
    S0301,
    S0302,
    S0303,
    S0401,
    S0402,
    T0410,
    T0411,
    T0412,
    D1001,
    D1002,
    T1003,
    D1004,
    T1005,
    T1006,
    T1007,
    T1008,
    D1009,
    T1010,
    D1011,
    D1012,
    T2001,
    T2002,
    T2003,
    T2004,
    T2006,
    T2007,
    T2008,
    T2009,
    T2010,
    T2011,
    T2012,
    T2013,
    D2014,
    D3001,
    D3010,
    D3011,
    D3012,
    D3020,
    D3030,
    D3040,
    D3050,
    D3060,
    D3061,
    D3070,
    D3080,
    D3081,
    D3082,
    D3083,
    D3084,
    D3085,
    D3086,
    D3087,
    D3088,
    D3089,
    D3090,
    D3091,
    D3092,
    D3093,
    D3100,
    D3110,
    D3130,
    D3131,
    D3132,
    D3133,
    D3134,
    D3135,
    D3136,
    D3137,
    D3138,
    D3139,
    D3140,
    D3141,
    /// A value nested deeper than the evaluator follows (this evaluator's limit).
    U1002,
    /// An expression nested deeper than the parser follows (this evaluator's limit).
    U1003,
    /// A string longer than the evaluator produces (this evaluator's limit).
    U1004,
    /// A function was given an argument it cannot use (beyond what its signature checks).
    U3001,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        // The Debug name is the code itself.
        CODE_NAMES
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, n)| *n)
            .unwrap_or("U0000")
    }

    /// `S…` codes are raised while parsing, the others while evaluating.
    pub fn is_static(self) -> bool {
        self.as_str().starts_with('S')
    }
}

macro_rules! names {
    ($($c:ident),* $(,)?) => { &[$((ErrorCode::$c, stringify!($c))),*] };
}

const CODE_NAMES: &[(ErrorCode, &str)] = names![
    S0101, S0102, S0103, S0104, S0105, S0106, S0201, S0202, S0203, S0204, S0207, S0208, S0209,
    S0210, S0211, S0212, S0213, S0214, S0215, S0216, S0217, S0301, S0302, S0303, S0401, S0402,
    T0410, T0411, T0412, D1001, D1002, T1003, D1004, T1005, T1006, T1007, T1008, D1009, T1010,
    D1011, D1012, T2001, T2002, T2003, T2004, T2006, T2007, T2008, T2009, T2010, T2011, T2012,
    T2013, D2014, D3001, D3010, D3011, D3012, D3020, D3030, D3040, D3050, D3060, D3061, D3070,
    D3080, D3081, D3082, D3083, D3084, D3085, D3086, D3087, D3088, D3089, D3090, D3091, D3092,
    D3093, D3100, D3110, D3130, D3131, D3132, D3133, D3134, D3135, D3136, D3137, D3138, D3139,
    D3140, D3141, U1002, U1003, U1004, U3001,
];

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSONata error: its code, a sentence for a person, and the character offset in the
/// expression where it arose (when known).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonataError {
    pub code: ErrorCode,
    pub message: String,
    pub position: Option<usize>,
}

impl JsonataError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            position: None,
        }
    }

    pub fn at(code: ErrorCode, position: usize, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            position: Some(position),
        }
    }

    /// Sets the position unless one is already known (the innermost position wins).
    pub(crate) fn or_at(mut self, position: usize) -> Self {
        if self.position.is_none() {
            self.position = Some(position);
        }
        self
    }
}

impl fmt::Display for JsonataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{} at character {}: {}", self.code, p, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for JsonataError {}

pub type Result<T> = std::result::Result<T, JsonataError>;

/// Shorthand for an error without a position yet; the evaluator adds the position of the
/// expression that raised it.
pub(crate) fn err<T>(code: ErrorCode, message: impl Into<String>) -> Result<T> {
    Err(JsonataError::new(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_as_the_specification_names_them() {
        assert_eq!(ErrorCode::T2001.as_str(), "T2001");
        assert_eq!(ErrorCode::D3030.to_string(), "D3030");
        assert!(ErrorCode::S0201.is_static());
        assert!(!ErrorCode::T0410.is_static());
        let e = JsonataError::at(ErrorCode::S0201, 4, "Syntax error: ')'");
        assert_eq!(e.to_string(), "S0201 at character 4: Syntax error: ')'");
    }
}
