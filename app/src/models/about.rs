//! What the About page shows about the running server.

use serde::{Deserialize, Serialize};

/// Which backend drives the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The embedded engine and local services: no AWS account, no network.
    Local,
    /// AWS Step Functions, SageMaker and Cognito.
    Aws,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::Aws => "aws",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Facts about the running server, as the About page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboutInfo {
    pub mode: Mode,
    pub version: String,
    /// The git commit the server binary was built from (`unknown` outside a checkout).
    pub git_commit: String,
    /// When the server process started, RFC 3339 in UTC.
    pub started_at: String,
    pub uptime_seconds: u64,
}

/// `3d 4h 5m 6s`, dropping leading zero units; `0s` for zero.
pub fn format_uptime(total_seconds: u64) -> String {
    let units = [
        (total_seconds / 86_400, "d"),
        (total_seconds / 3_600 % 24, "h"),
        (total_seconds / 60 % 60, "m"),
        (total_seconds % 60, "s"),
    ];
    let parts: Vec<String> = units
        .iter()
        .skip_while(|(value, unit)| *value == 0 && *unit != "s")
        .map(|(value, unit)| format!("{value}{unit}"))
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_drops_leading_zero_units_but_keeps_inner_ones() {
        assert_eq!(format_uptime(0), "0s");
        assert_eq!(format_uptime(59), "59s");
        assert_eq!(format_uptime(61), "1m 1s");
        assert_eq!(format_uptime(3_600), "1h 0m 0s");
        assert_eq!(format_uptime(90_061), "1d 1h 1m 1s");
    }
}
