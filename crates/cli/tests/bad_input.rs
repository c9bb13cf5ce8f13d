//! What a user meets when they hand `emoji-mirror` something it cannot use: unreadable, empty,
//! truncated or hostile files are named in one error line each, the exit status is non-zero, a
//! folder goes on past its bad files, and nothing panics or hangs.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{ImageFormat, Rgb, RgbImage};
use test_support::{models_dir, scratch};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_emoji-mirror"))
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 3) as u8, (y * 3) as u8, 90]));
    let mut c = Cursor::new(Vec::new());
    img.write_to(&mut c, ImageFormat::Png).expect("png");
    c.into_inner()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn assert_no_panic(o: &Output) {
    let (_, err) = text(o);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(
        o.status.code().is_some(),
        "killed by a signal: {:?}",
        o.status
    );
}

/// The bad files every test uses, written into `dir`.
fn write_bad_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut put = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        files.push(p);
    };
    put("empty.jpg", b"");
    put("text.png", b"this is not an image at all");
    let good = png(64, 64);
    put("truncated.png", &good[..good.len() / 3]);
    // A PNG whose header claims 60000 x 60000 pixels (a decompression bomb's header).
    let mut bomb = png(8, 8);
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    put("bomb.png", &bomb);
    put(
        "garbage.jpg",
        &[
            0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 2, 3, 0xFF, 0xD9,
        ],
    );
    files
}

#[test]
fn predict_names_each_bad_file_and_exits_non_zero() {
    let dir = scratch("predict-bad");
    let files = write_bad_files(&dir);
    let missing = dir.join("does-not-exist.jpg");
    for f in files.iter().chain(std::iter::once(&missing)) {
        let o = bin().arg("predict").arg(f).output().expect("runs");
        assert_no_panic(&o);
        let (_, err) = text(&o);
        assert!(!o.status.success(), "{}: exit 0", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(err.contains(name.as_ref()), "{name} not named in: {err}");
        assert_eq!(
            err.lines().filter(|l| l.contains(name.as_ref())).count(),
            1,
            "{err}"
        );
    }
}

#[test]
fn a_folder_goes_on_past_bad_files_and_counts_them() {
    let dir = scratch("predict-folder");
    write_bad_files(&dir);
    std::fs::write(dir.join("good.png"), png(64, 48)).expect("write");
    std::fs::write(
        dir.join("notes.txt"),
        b"not an image, not picked up from a folder",
    )
    .expect("write");
    let o = bin()
        .args(["predict", "--json"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_no_panic(&o);
    assert!(!o.status.success());
    let (out, _) = text(&o);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["failed"], 5);
    let images = v["images"].as_array().expect("images");
    assert_eq!(images.len(), 6, "{out}");
    let good = images
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("good.png"))
        .expect("good.png");
    assert!(good["error"].is_null());
    assert_eq!(good["width"], 64);
    assert!(good["faces"].is_array());
}

#[test]
fn evaluate_counts_bad_files_and_still_reports() {
    let root = scratch("evaluate");
    let happy = root.join("happiness"); // an alias of "happy"
    std::fs::create_dir_all(&happy).expect("mkdir");
    std::fs::write(happy.join("a.png"), png(48, 48)).expect("write");
    std::fs::write(happy.join("b.png"), b"broken").expect("write");
    let o = bin()
        .args(["evaluate", "--json", "--data"])
        .arg(&root)
        .output()
        .expect("runs");
    assert_no_panic(&o);
    assert!(!o.status.success());
    let (out, err) = text(&o);
    assert!(err.contains("b.png"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["images"], 1);
    assert_eq!(v["failed"], 1);
    assert_eq!(v["per_class"]["happy"]["support"], 1);
}

#[test]
fn framings_names_a_bad_file_and_an_output_it_cannot_write() {
    let root = scratch("framings");
    let happy = root.join("happy");
    std::fs::create_dir_all(&happy).expect("mkdir");
    std::fs::write(happy.join("a.png"), png(48, 48)).expect("write");
    std::fs::write(happy.join("b.png"), b"broken").expect("write");
    // A table for training must hold every face of the data: a face that cannot be read stops it, by name.
    let table = root.join("table.csv");
    let o = bin()
        .args(["framings", "--data"])
        .arg(&root)
        .arg("--out")
        .arg(&table)
        .output()
        .expect("runs");
    assert_no_panic(&o);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("b.png"), "{}", text(&o).1);
    // An output folder that does not exist is refused before any frame is made.
    std::fs::remove_file(happy.join("b.png")).expect("rm");
    let o = bin()
        .args(["framings", "--data"])
        .arg(&root)
        .arg("--out")
        .arg(root.join("no-such-folder").join("table.csv"))
        .output()
        .expect("runs");
    assert_no_panic(&o);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("no-such-folder"), "{}", text(&o).1);
}

#[test]
fn evaluate_on_a_folder_without_classes_says_so() {
    let root = scratch("evaluate-empty");
    let o = bin()
        .args(["evaluate", "--data"])
        .arg(&root)
        .output()
        .expect("runs");
    assert_no_panic(&o);
    assert!(!o.status.success());
    let (_, err) = text(&o);
    assert!(err.contains("no class folders"), "{err}");
    let o = bin()
        .args(["evaluate", "--data"])
        .arg(root.join("nope"))
        .output()
        .expect("runs");
    assert!(!o.status.success());
    assert!(text(&o).1.contains("nope"));
}

#[test]
fn a_bad_model_file_is_reported_by_name() {
    let dir = scratch("model");
    let model = dir.join("broken.onnx");
    std::fs::write(&model, b"not onnx").expect("write");
    std::fs::write(dir.join("x.png"), png(48, 48)).expect("write");
    let o = bin()
        .args(["predict", "--no-detect", "--model"])
        .arg(&model)
        .arg(dir.join("x.png"))
        .output()
        .expect("runs");
    assert_no_panic(&o);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("broken.onnx"));
}

#[test]
fn convert_refuses_what_is_not_an_onnx_model_and_writes_nothing() {
    let dir = scratch("convert");
    let bad = dir.join("broken.onnx");
    std::fs::write(&bad, b"not onnx").expect("write");
    let out = dir.join("out.nnef.tar");
    for input in [bad.clone(), dir.join("missing.onnx")] {
        let o = bin()
            .args(["convert", "--kind", "emotion"])
            .arg(&input)
            .arg(&out)
            .output()
            .expect("runs");
        assert_no_panic(&o);
        assert!(!o.status.success());
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        assert!(text(&o).1.contains(&name), "{}", text(&o).1);
        assert!(!out.exists(), "nothing written for {name}");
    }
}

#[test]
fn convert_makes_the_shipped_archive_from_the_onnx_file() {
    let models = models_dir();
    let out = scratch("convert-ok").join("emotion.nnef.tar");
    let o = bin()
        .args(["convert", "--kind", "emotion"])
        .arg(models.join("emotion_int8.onnx"))
        .arg(&out)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(text(&o).0.contains("identical outputs"));
    let shipped = std::fs::read(models.join("emotion_int8.nnef.tar")).expect("shipped archive");
    assert!(
        std::fs::read(&out).expect("written") == shipped,
        "differs from models/emotion_int8.nnef.tar"
    );
}

/// The stream settings a benchmark may change are checked before anything runs: a window side or face share out of
/// range is named with the range it needs.
#[test]
fn stream_settings_out_of_range_are_named() {
    let dir = scratch("stream-settings");
    std::fs::write(dir.join("x.png"), png(64, 48)).expect("write");
    for (flag, value, says) in [
        (
            "--follow-side",
            "16",
            "expected 0 (off) or 32 to 128 pixels",
        ),
        (
            "--follow-fill",
            "5",
            "expected 0.2 to 0.9 of the window's side",
        ),
        (
            "--follow-fill",
            "NaN",
            "expected 0.2 to 0.9 of the window's side",
        ),
    ] {
        let o = bin()
            .args(["predict", flag, value])
            .arg(dir.join("x.png"))
            .output()
            .expect("runs");
        assert_no_panic(&o);
        assert!(!o.status.success(), "{flag} {value} was accepted");
        let (_, err) = text(&o);
        assert!(
            err.contains(&format!("{flag} {value}")) && err.contains(says),
            "{flag} {value}: {err}"
        );
    }
}
