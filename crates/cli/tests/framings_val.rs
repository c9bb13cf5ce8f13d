//! `emoji-mirror framings` on a few PublicTest (val) faces: the table says where the pipeline's crop falls on each
//! face, in the face's own coordinates — so that cutting the dataset face there gives the crop the pipeline cut
//! from the camera frame.

use std::path::Path;
use std::process::Command;

use emoji_pipeline::synth::{benchmark_scene, camera_frame};
use emoji_pipeline::{
    aligned_face, crop_grey, decode_image, enhance, face_crop, CropRegion, DecodeLimits, Pipeline,
};
use image::{DynamicImage, GrayImage};
use test_support::data_dir;

const SEED: u64 = 7;
const VIEWS: usize = 2;

struct Row {
    class: String,
    file: String,
    view: usize,
    framing: Option<[f32; 4]>,
}

fn framings(out: &Path) -> Vec<Row> {
    let val = data_dir().join("val");
    let status = Command::new(env!("CARGO_BIN_EXE_emoji-mirror"))
        .args([
            "framings", "--every", "60", "--views", "2", "--seed", "7", "--data",
        ])
        .arg(&val)
        .arg("--out")
        .arg(out)
        .status()
        .expect("emoji-mirror runs");
    assert!(status.success());
    let text = std::fs::read_to_string(out).expect("the table is written");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("class,file,view,found,centre_x,centre_y,side,angle")
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 8, "{line}");
            let framing =
                (f[3] == "1").then(|| [4, 5, 6, 7].map(|k| f[k].parse::<f32>().expect("a number")));
            Row {
                class: f[0].into(),
                file: f[1].into(),
                view: f[2].parse().expect("view"),
                framing,
            }
        })
        .collect()
}

/// Mean absolute grey difference of the inner 32x32 (outside the face the frame has its background, the face its
/// repeated edge), after the contract's contrast and equalisation.
fn inner_difference(a: &GrayImage, b: &GrayImage, pipeline: &Pipeline) -> f64 {
    let (a, b) = (
        enhance(a, pipeline.contract()),
        enhance(b, pipeline.contract()),
    );
    let mut sum = 0.0;
    for y in 8..40 {
        for x in 8..40 {
            sum += (f64::from(a.get_pixel(x, y)[0]) - f64::from(b.get_pixel(x, y)[0])).abs();
        }
    }
    sum / 1024.0
}

#[test]
fn the_table_cuts_each_face_where_the_pipeline_cut_its_frame() {
    let out =
        std::env::temp_dir().join(format!("emoji-mirror-framings-{}.csv", std::process::id()));
    let rows = framings(&out);
    let _ = std::fs::remove_file(&out);
    let faces = rows.len() / VIEWS;
    assert!(faces >= 50, "every 60th val face of each class: {faces}");
    let found: Vec<&Row> = rows.iter().filter(|r| r.framing.is_some()).collect();
    assert!(
        found.len() * 10 >= rows.len() * 8,
        "most faces are found: {} of {}",
        found.len(),
        rows.len()
    );

    let pipeline = Pipeline::shipped().expect("the shipped pipeline");
    let (mut right, mut mirrored, mut turned) = (0.0, 0.0, 0.0);
    let mut sides = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.view, i % VIEWS);
        let Some([cx, cy, side, angle]) = row.framing else {
            continue;
        };
        assert!(
            (0.4..2.5).contains(&side),
            "the crop is about the face's size: {side}"
        );
        sides.push(side);
        assert!(cx.abs() < 0.5 && cy.abs() < 0.5 && angle.abs() <= 10f32.to_radians() + 1e-4);
        let path = data_dir().join("val").join(&row.class).join(&row.file);
        let bytes = std::fs::read(&path).expect("the val face");
        let img = decode_image(&bytes, &DecodeLimits::default()).expect("decodes");
        let face = aligned_face(&img, pipeline.contract());
        // The pipeline's crop from the camera frame the table was made from.
        let scene = benchmark_scene(SEED + (i % VIEWS) as u64, i / VIEWS);
        let (frame, _) = camera_frame(&face, &scene).expect("frame");
        let det = pipeline.detector().detect(&frame).expect("detects")[0];
        let from_frame = face_crop(&frame, &det, pipeline.contract());
        // The same square cut from the dataset face by the table.
        let rgb = DynamicImage::ImageLuma8(face).to_rgb8();
        let cut = |cx: f32, cy: f32, angle: f32| {
            let region = CropRegion {
                cx: 24.0 + cx * 48.0,
                cy: 24.0 + cy * 48.0,
                side: side * 48.0,
                angle,
            };
            crop_grey(&rgb, &region, 48, pipeline.contract())
        };
        right += inner_difference(&from_frame, &cut(cx, cy, angle), &pipeline);
        mirrored += inner_difference(&from_frame, &cut(-cx, -cy, angle), &pipeline);
        turned += inner_difference(&from_frame, &cut(cx, cy, -angle), &pipeline);
    }
    sides.sort_by(f32::total_cmp);
    let median = sides[sides.len() / 2];
    assert!(
        (0.75..1.05).contains(&median),
        "1.10x the detector's box is about 0.9 of FER's square (crates/pipeline/CROP.md): {median}"
    );
    let n = found.len() as f64;
    let (right, mirrored, turned) = (right / n, mirrored / n, turned / n);
    eprintln!("mean grey difference: the table's square {right:.2}, moved the other way {mirrored:.2}, turned {turned:.2}");
    assert!(
        right < 0.8 * mirrored && right < turned,
        "the table's square matches the frame's crop (mean grey difference {right:.1}) better than the square moved \
         the other way ({mirrored:.1}) or turned the other way ({turned:.1})"
    );
}
