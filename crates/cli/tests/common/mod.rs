//! What the CLI's tests share: running the built `emoji-mirror` as a user does and reading the one JSON object it
//! prints.

use std::ffi::OsStr;
use std::process::Command;

/// Runs `emoji-mirror ARGS`, which must succeed, and returns the one JSON object it prints on stdout.
pub fn emoji_mirror_json<I, S>(args: I) -> serde_json::Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_emoji-mirror"))
        .args(args)
        .output()
        .expect("emoji-mirror runs");
    assert!(
        out.status.success(),
        "emoji-mirror failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("exactly one JSON object on stdout")
}
