//! `emoji-mirror evaluate` on the FER2013 PublicTest (val) split with the shipped int8 model gives
//! the accuracy the model card claims. The figure is read from models/metrics.json
//! ("val_accuracy", a fraction) or, failing that, from the "PublicTest (val)" accuracy line of
//! models/MODEL_CARD.md. Missing data or a missing figure fail the test.

use std::ffi::OsStr;

mod common;
use common::emoji_mirror_json;

use test_support::{data_dir, models_dir};

/// The claimed PublicTest (val) accuracy of the shipped model, as a fraction.
fn claimed_accuracy() -> (f64, String) {
    let metrics = models_dir().join("metrics.json");
    if let Ok(text) = std::fs::read_to_string(&metrics) {
        let v: serde_json::Value = serde_json::from_str(&text).expect("models/metrics.json parses");
        let a = v["val_accuracy"]
            .as_f64()
            .expect("models/metrics.json has a numeric \"val_accuracy\"");
        return (a, "models/metrics.json".into());
    }
    let card = models_dir().join("MODEL_CARD.md");
    let text = std::fs::read_to_string(&card).unwrap_or_else(|e| {
        panic!(
            "neither models/metrics.json nor {} is readable: {e}",
            card.display()
        )
    });
    for line in text.lines() {
        let lower = line.to_lowercase();
        if line.contains("PublicTest (val)") && lower.contains("accuracy") {
            if let Some(pct) = first_percentage(line) {
                return (
                    pct / 100.0,
                    format!("models/MODEL_CARD.md: {}", line.trim()),
                );
            }
        }
    }
    panic!("models/MODEL_CARD.md has no line with \"PublicTest (val)\", \"accuracy\" and a NN.NN% figure");
}

fn first_percentage(line: &str) -> Option<f64> {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%' {
            let start = line[..i]
                .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map(|s| s + 1)
                .unwrap_or(0);
            if let Ok(v) = line[start..i].parse::<f64>() {
                return Some(v);
            }
        }
    }
    None
}

#[test]
fn evaluate_on_val_meets_the_model_card() {
    let (claimed, source) = claimed_accuracy();
    let v = evaluate_json(&[]);
    assert_eq!(v["images"], 3589, "PublicTest (val) has 3,589 images");
    assert_eq!(v["failed"], 0);
    let acc = v["accuracy"].as_f64().expect("accuracy");
    eprintln!(
        "PublicTest (val) accuracy {:.4}, claimed {:.4} ({source})",
        acc, claimed
    );
    // Same model, same data, same preprocessing: only rounding in the card may differ.
    assert!(
        acc + 0.005 >= claimed,
        "accuracy {acc:.4} is below the claimed {claimed:.4} ({source})"
    );
    // The report is internally consistent.
    let matrix = v["confusion"]["matrix"].as_array().expect("matrix");
    let total: u64 = matrix
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|x| x.as_u64().unwrap())
        .sum();
    let diag: u64 = (0..matrix.len())
        .map(|i| matrix[i][i].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3589);
    assert!((diag as f64 / total as f64 - acc).abs() < 1e-9);
    for key in [
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "ms_per_image",
    ] {
        assert!(v[key].as_f64().is_some(), "{key}");
    }
}

/// Runs `emoji-mirror evaluate --json --data <val> ARGS`, which must succeed, and returns its JSON.
fn evaluate_json(args: &[&str]) -> serde_json::Value {
    let val = data_dir().join("val");
    let base = ["evaluate", "--json", "--data"].map(OsStr::new);
    let args = base
        .into_iter()
        .chain([val.as_os_str()])
        .chain(args.iter().map(OsStr::new));
    emoji_mirror_json(args)
}

/// `evaluate --camera --json ARGS` on val.
fn camera_json(args: &[&str]) -> serde_json::Value {
    evaluate_json(&[&["--camera"], args].concat())
}

#[test]
fn the_full_path_benchmark_reports_the_frames_beside_the_crops_and_repeats_itself() {
    let v = camera_json(&["--every", "50", "--seed", "3"]);
    let images = v["images"].as_u64().expect("images");
    // Every 50th image of each class folder of val (3,589 images in 7 folders).
    assert!((70..=80).contains(&images), "{images} images");
    let f = &v["full_path"];
    assert_eq!(f["seed"], 3);
    let buckets = f["by_face_size"].as_array().expect("buckets");
    let frames: u64 = buckets.iter().map(|b| b["frames"].as_u64().unwrap()).sum();
    assert_eq!(frames, images, "every frame is in one face-size bucket");
    let no_face: u64 = buckets.iter().map(|b| b["no_face"].as_u64().unwrap()).sum();
    assert_eq!(no_face, v["no_face"].as_u64().unwrap());
    for key in [
        "crop_accuracy",
        "square_accuracy",
        "crop_macro_f1",
        "no_face_rate",
    ] {
        let x = f[key].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&x), "{key} = {x}");
    }
    let gap = f["crop_accuracy"].as_f64().unwrap() - v["accuracy"].as_f64().unwrap();
    assert!((100.0 * gap - f["gap_points"].as_f64().unwrap()).abs() < 1e-9);
    // The crops of the same faces are what plain `evaluate` reads: a sensible model gets most right.
    assert!(f["crop_accuracy"].as_f64().unwrap() > 0.4, "{f}");

    // The same seed gives the same frames, hence the same figures.
    let again = camera_json(&["--every", "50", "--seed", "3"]);
    assert_eq!(again["full_path"], v["full_path"]);
    assert_eq!(again["confusion"], v["confusion"]);
}

/// `evaluate --json --every 25 ARGS` on the val crops.
fn crops_json(args: &[&str]) -> serde_json::Value {
    evaluate_json(&[&["--every", "25"], args].concat())
}

/// The shipped contract reads each face with its mirror (test-time flip), `--no-test-time-flip` without it: each
/// says so, scores the same faces, and reads some of them differently (the lever's figures in
/// models/MODEL_CARD.md come from these options); `--test-time-flip` is the contract's own reading.
#[test]
fn test_time_flip_is_measured_on_the_same_faces() {
    let plain = crops_json(&["--no-test-time-flip"]);
    let flip = crops_json(&[]);
    let asked = crops_json(&["--test-time-flip"]);
    assert_eq!(
        (&flip["model"], &flip["confusion"]),
        (&asked["model"], &asked["confusion"])
    );
    assert!(
        !plain["model"].as_str().unwrap().contains("flip"),
        "{}",
        plain["model"]
    );
    assert!(
        flip["model"].as_str().unwrap().ends_with("test-time flip"),
        "{}",
        flip["model"]
    );
    assert_eq!(plain["images"], flip["images"]);
    assert_ne!(
        plain["confusion"], flip["confusion"],
        "the flip changed no reading"
    );
}

/// `--crop-scale` cuts the faces found in the frames at another size (the framing's lever, FULLPATH.md): the
/// contract's own scale reads exactly what the default reads, a much larger one reads differently and says so, and
/// a scale that makes no sense is refused with a message.
#[test]
fn the_crop_scale_is_measured_on_the_same_frames() {
    let default = camera_json(&["--every", "50", "--seed", "3"]);
    let contract = emoji_pipeline::Contract::shipped().crop.scale.to_string();
    let same = camera_json(&["--every", "50", "--seed", "3", "--crop-scale", &contract]);
    assert_eq!(same["confusion"], default["confusion"]);
    let wide = camera_json(&["--every", "50", "--seed", "3", "--crop-scale", "1.8"]);
    assert_ne!(
        wide["confusion"], default["confusion"],
        "a 1.8x crop read every frame alike"
    );
    assert!(
        wide["model"].as_str().unwrap().contains("1.8x"),
        "{}",
        wide["model"]
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_emoji-mirror"))
        .args([
            "evaluate",
            "--camera",
            "--every",
            "50",
            "--crop-scale",
            "9",
            "--data",
        ])
        .arg(data_dir().join("val"))
        .output()
        .expect("runs");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--crop-scale 9"));
}
