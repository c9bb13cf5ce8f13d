//! `emoji-mirror live` on a few PublicTest (val) faces: what the live page would show, held still and switched,
//! read from the same frames for every tracker setting asked for.

use std::ffi::OsStr;
use std::process::Command;

mod common;
use common::emoji_mirror_json;

use test_support::data_dir;

/// `emoji-mirror live --json --data <val> ARGS`.
fn live_json(args: &[&str]) -> serde_json::Value {
    let val = data_dir().join("val");
    let base = ["live", "--json", "--data"].map(OsStr::new);
    emoji_mirror_json(
        base.into_iter()
            .chain([val.as_os_str()])
            .chain(args.iter().map(OsStr::new)),
    )
}

#[test]
fn live_reports_steadiness_and_follow_for_each_tracker_setting() {
    let v = live_json(&[
        "--faces-per-class",
        "2",
        "--hold-seconds",
        "3",
        "--pairs",
        "3",
        "--hysteresis",
        "0,0.1,0.3",
    ]);
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "one report per band");
    for r in runs {
        assert_eq!(r["held_faces"], 14, "2 faces of each of the 7 emotions");
        assert_eq!(r["held"].as_array().map(Vec::len), Some(14));
        let steady = r["steady_changes_per_5_s"].as_f64().expect("steady");
        let spurious = r["spurious_changes_per_5_s"].as_f64().expect("spurious");
        assert!(steady >= 0.0 && spurious >= 0.0, "{r}");
        let right = r["shown_at_the_end_right"].as_f64().expect("right");
        assert!((0.0..=1.0).contains(&right));
        for s in r["switches"].as_array().expect("switches") {
            let ms = s["follow_ms"].as_f64().expect("follow_ms");
            assert!(
                ms > 0.0 && ms <= 2000.0,
                "a switch is followed within its 2 s segment: {s}"
            );
            assert_ne!(s["from"], s["to"]);
        }
        let counted = r["switches_measured"].as_u64().unwrap()
            + r["switches_to_the_same_emoji"].as_u64().unwrap()
            + r["switches_not_followed"].as_u64().unwrap();
        assert!(
            counted <= 9,
            "3 switches in each of 3 pairs at most: {counted}"
        );
    }
    // The same frames and faces under every band: a wider band never changes the emoji more often on held faces.
    let changes: Vec<u64> = runs
        .iter()
        .map(|r| {
            r["held"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["changes"].as_u64().unwrap())
                .sum()
        })
        .collect();
    assert!(
        changes[0] >= changes[1] && changes[1] >= changes[2],
        "{changes:?}"
    );
}

#[test]
fn live_refuses_a_bad_setting_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_emoji-mirror"))
        .args(["live", "--data", "/nonexistent", "--hysteresis", "0.7"])
        .output()
        .expect("emoji-mirror runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--hysteresis 0.7"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_emoji-mirror"))
        .args(["bench", "--search-every", "0"])
        .output()
        .expect("emoji-mirror runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--search-every"));
}
