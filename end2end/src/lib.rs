//! Test support for the browser tests: the release Gatehouse server as a child process and a
//! headless Chromium driven through chromedriver (Debian's `chromium` + `chromium-driver`).
//!
//! Nothing here downloads a browser: both come from Debian packages that
//! `scripts/bootstrap.sh` installs.

pub mod browser;
pub mod server;
pub mod util;
