//! `emoji-mirror predict` as a user runs it on a photo: the face is found where it is, labelled
//! with one of the contract's labels and emoji, `--annotate` writes a picture with the emotion's
//! emoji artwork beside the face, and `--no-detect` takes an aligned face crop as it is.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::emoji_mirror_json;

use emoji_pipeline::synth::paste_face;
use emoji_pipeline::{artwork, Contract};
use image::{Rgb, RgbImage};
use test_support::{load_grey, scratch, val_faces};

/// Runs `emoji-mirror predict --json ARGS`, which must succeed, and returns its JSON.
fn predict_json(args: &[&str], image: &Path) -> serde_json::Value {
    let base = ["predict", "--json"].iter().chain(args).map(OsStr::new);
    emoji_mirror_json(base.chain([image.as_os_str()]))
}

fn first_happy() -> PathBuf {
    val_faces("happy")
        .into_iter()
        .next()
        .expect("a happy val image")
}

#[test]
fn predict_finds_the_face_in_a_photo_and_annotates_it() {
    let dir = scratch("photo");
    let face = load_grey(&first_happy());
    let mut photo = RgbImage::from_pixel(640, 480, Rgb([90, 110, 100]));
    paste_face(&mut photo, &face, 300, 150, 200);
    let photo_path = dir.join("photo.jpg");
    photo.save(&photo_path).expect("save");
    let out_png = dir.join("annotated.png");
    let v = predict_json(
        &["--annotate", out_png.to_str().expect("a UTF-8 path")],
        &photo_path,
    );
    let faces = v["images"][0]["faces"].as_array().expect("faces");
    assert_eq!(faces.len(), 1, "{v}");
    let b = &faces[0]["box"];
    let (cx, cy) = (
        b["x"].as_f64().unwrap() + b["w"].as_f64().unwrap() / 2.0,
        b["y"].as_f64().unwrap() + b["h"].as_f64().unwrap() / 2.0,
    );
    assert!(
        (cx - 400.0).abs() < 40.0 && (cy - 250.0).abs() < 50.0,
        "box {b}"
    );
    let label = faces[0]["label"].as_str().unwrap();
    let contract = Contract::shipped();
    let i = contract
        .labels
        .iter()
        .position(|l| l == label)
        .expect("a contract label");
    assert_eq!(faces[0]["emoji"], contract.emoji[i].as_str());
    let total: f64 = faces[0]["probabilities"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-3);
    // The annotated picture is the photo with something drawn on it.
    let drawn = image::open(&out_png).expect("annotated PNG").to_rgb8();
    assert_eq!(drawn.dimensions(), (640, 480));
    assert_ne!(drawn, photo_jpeg_roundtrip(&photo_path));

    // The text form names the file and the label.
    let out = Command::new(env!("CARGO_BIN_EXE_emoji-mirror"))
        .arg("predict")
        .arg(&photo_path)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("photo.jpg") && text.contains("1 face") && text.contains(label),
        "{text}"
    );
}

#[test]
fn annotate_draws_the_emotions_emoji_picture_beside_the_face() {
    let dir = scratch("photo-artwork");
    let face = load_grey(&first_happy());
    let mut photo = RgbImage::from_pixel(640, 480, Rgb([90, 110, 100]));
    paste_face(&mut photo, &face, 200, 150, 200);
    let photo_path = dir.join("photo.png");
    photo.save(&photo_path).expect("save");
    let out_png = dir.join("annotated.png");
    let v = predict_json(
        &["--annotate", out_png.to_str().expect("a UTF-8 path")],
        &photo_path,
    );
    let found = &v["images"][0]["faces"][0];
    let label = found["label"].as_str().expect("a label");
    let b = &found["box"];
    let [x, y, w] = ["x", "y", "w"].map(|k| b[k].as_f64().expect("a box") as i64);
    let drawn = image::open(&out_png).expect("annotated PNG").to_rgb8();

    // The label's picture, drawn at any size up to the box's, in the strip right of the box and
    // level with its top: its pixels take many of the picture's own colours, which the photo
    // (grey face, green-grey background) has none of.
    let art = artwork::image(label).expect("the label's picture");
    let mut palette: Vec<[u8; 3]> = art
        .pixels()
        .filter(|p| p[3] == 255)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    palette.sort();
    palette.dedup();
    let near = |a: [u8; 3], b: [u8; 3]| (0..3).all(|c| a[c].abs_diff(b[c]) <= 12);
    let mut hits = vec![0usize; palette.len()];
    let (x0, y0) = ((x + w).max(0) as u32, y.max(0) as u32);
    for py in y0..(y0 + w as u32).min(drawn.height()) {
        for px in x0..(x0 + w as u32).min(drawn.width()) {
            let p = drawn.get_pixel(px, py).0;
            if near(p, photo.get_pixel(px, py).0) {
                continue;
            }
            if let Some(i) = palette.iter().position(|&c| near(c, p)) {
                hits[i] += 1;
            }
        }
    }
    let pixels: usize = hits.iter().sum();
    let colours = hits.iter().filter(|&&n| n > 0).count();
    let side = (w / 2) as usize;
    assert!(
        pixels > side * side / 3 && colours >= palette.len() / 3,
        "{label}'s picture not found right of box {b}: {pixels} pixels of {colours} of its {} colours",
        palette.len()
    );
}

fn photo_jpeg_roundtrip(p: &std::path::Path) -> RgbImage {
    image::open(p).expect("photo").to_rgb8()
}

#[test]
fn no_detect_takes_an_aligned_crop_as_it_is() {
    let v = predict_json(&["--no-detect"], &first_happy());
    let faces = v["images"][0]["faces"].as_array().expect("faces");
    assert_eq!(faces.len(), 1);
    assert_eq!(faces[0]["box"]["w"], 48.0);
}
