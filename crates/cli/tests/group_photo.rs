//! `emoji-mirror predict` on a large group photo: every face, down to 24 px in a 1280x720 picture
//! (far smaller than the detector's 128 px view of the whole photo shows), is found where it is and
//! gets a box, a label and its emoji. The photo is built from FER2013 val faces of several classes
//! pasted at 24–96 px onto a textured background.

use std::ffi::OsStr;

mod common;
use common::emoji_mirror_json;

use emoji_pipeline::synth::{background, paste_face};
use emoji_pipeline::{BoxF, Contract};
use test_support::{load_grey, scratch, val_faces};

/// (class folder, face square side, top-left corner) of each pasted face.
const FACES: [(&str, u32, (i64, i64)); 7] = [
    ("happy", 24, (80, 120)),
    ("neutral", 32, (300, 520)),
    ("surprise", 40, (480, 160)),
    ("sad", 48, (650, 480)),
    ("angry", 64, (820, 90)),
    ("happy", 80, (1000, 420)),
    ("fear", 96, (150, 330)),
];

#[test]
fn predict_finds_every_face_in_a_group_photo_down_to_24_px() {
    let dir = scratch("group-photo");
    let mut photo = background(1280, 720, 11);
    let mut squares: Vec<BoxF> = Vec::new();
    for (k, &(class, side, (x, y))) in FACES.iter().enumerate() {
        let face = load_grey(&val_faces(class)[k]);
        squares.push(paste_face(&mut photo, &face, x, y, side));
    }
    let path = dir.join("group.png");
    photo.save(&path).expect("save the photo");

    let v = emoji_mirror_json([
        OsStr::new("predict"),
        OsStr::new("--json"),
        path.as_os_str(),
    ]);
    let faces = v["images"][0]["faces"].as_array().expect("faces");
    let contract = Contract::shipped();
    for (square, &(class, side, _)) in squares.iter().zip(FACES.iter()) {
        let found: Vec<&serde_json::Value> = faces
            .iter()
            .filter(|f| {
                let b = &f["box"];
                let g = |k: &str| b[k].as_f64().expect("a number") as f32;
                let (cx, cy) = (g("x") + g("w") / 2.0, g("y") + g("h") / 2.0);
                (square.x..square.x + square.w).contains(&cx)
                    && (square.y..square.y + square.h).contains(&cy)
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "the {side} px {class} face at {square:?}: {} boxes on it; all faces: {v}",
            found.len()
        );
        let f = found[0];
        let w = f["box"]["w"].as_f64().expect("a width");
        assert!(
            w > 0.4 * f64::from(side) && w < 1.5 * f64::from(side),
            "the {side} px face's box is {w} px wide"
        );
        let label = f["label"].as_str().expect("a label");
        let i = contract
            .labels
            .iter()
            .position(|l| l == label)
            .expect("a contract label");
        assert_eq!(f["emoji"], contract.emoji[i].as_str());
    }
    // Nothing but the pasted faces: no box off them.
    assert_eq!(faces.len(), FACES.len(), "{v}");
}
