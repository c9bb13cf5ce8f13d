//! The shipped BlazeFace archive, run by tract as the site runs it, gives the raw outputs that
//! MediaPipe's own TFLite model gave (models/parity/blazeface_reference.json, written by
//! training/convert_blazeface.py), and our anchors, decoding constants and box decoding are MediaPipe's.

use emoji_pipeline::detect::{decode_raw, ssd_anchors, DetectorConfig};
use serde_json::Value;

use super::common;

fn reference() -> Value {
    serde_json::from_slice(&common::model_bytes("parity/blazeface_reference.json"))
        .expect("parity JSON parses")
}

/// The recipe of `synthetic_input` in the JSON, NCHW [1, 3, 128, 128].
fn synthetic_input() -> Vec<f32> {
    let mut v = vec![0f32; 3 * 128 * 128];
    for c in 0..3usize {
        for y in 0..128usize {
            for x in 0..128usize {
                let p = (3 * x + 5 * y + 7 * c + ((x * y) >> 4) + ((x * x + 2 * y * y) >> 6)) % 256;
                v[c * 128 * 128 + y * 128 + x] = p as f32 / 127.5f32 - 1.0f32;
            }
        }
    }
    v
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

#[test]
fn decoding_constants_are_mediapipes() {
    let r = reference();
    let d = &r["mediapipe_decoding"];
    let cfg = DetectorConfig::default();
    assert_eq!(f(&d["anchors"]["input_size_width"]) as u32, cfg.input_size);
    assert_eq!(f(&d["anchors"]["input_size_height"]) as u32, cfg.input_size);
    let strides: Vec<u32> = d["anchors"]["strides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| f(s) as u32)
        .collect();
    assert_eq!(strides, cfg.strides);
    assert_eq!(
        f(&d["anchors"]["anchor_offset_x"]) as f32,
        cfg.anchor_offset
    );
    assert_eq!(
        f(&d["anchors"]["anchor_offset_y"]) as f32,
        cfg.anchor_offset
    );
    assert_eq!(d["anchors"]["fixed_anchor_size"], Value::Bool(true));
    assert_eq!(d["anchors"]["aspect_ratios"].as_array().unwrap().len(), 1);
    assert_eq!(f(&d["anchors"]["interpolated_scale_aspect_ratio"]), 1.0);
    for k in ["x_scale", "y_scale", "w_scale", "h_scale"] {
        assert_eq!(f(&d["decode"][k]) as f32, cfg.coord_scale, "{k}");
    }
    assert_eq!(
        f(&d["decode"]["num_boxes"]) as usize,
        ssd_anchors(&cfg).len()
    );
    assert_eq!(f(&d["decode"]["num_coords"]), 16.0);
    assert_eq!(f(&d["decode"]["keypoint_coord_offset"]), 4.0);
    assert_eq!(f(&d["decode"]["num_keypoints"]), 6.0);
    assert_eq!(d["decode"]["reverse_output_order"], Value::Bool(true));
    assert_eq!(d["decode"]["sigmoid_score"], Value::Bool(true));
    assert_eq!(
        d["decode"]["apply_exponential_on_box_size"],
        Value::Bool(false)
    );
    assert_eq!(
        f(&d["decode"]["score_clipping_thresh"]) as f32,
        cfg.score_clipping
    );
    assert_eq!(f(&d["decode"]["min_score_thresh"]) as f32, cfg.min_score);
    assert_eq!(
        f(&d["non_max_suppression"]["min_suppression_threshold"]) as f32,
        cfg.nms_iou
    );
    assert_eq!(
        d["non_max_suppression"]["overlap_type"],
        "INTERSECTION_OVER_UNION"
    );
    assert_eq!(d["non_max_suppression"]["algorithm"], "WEIGHTED");
    assert_eq!(d["image_to_tensor"]["keep_aspect_ratio"], Value::Bool(true));
    assert_eq!(d["image_to_tensor"]["border_mode"], "BORDER_ZERO");
}

#[test]
fn tract_reproduces_the_tflite_outputs_on_the_synthetic_input() {
    let r = reference();
    let s = &r["synthetic_reference"];
    let input = synthetic_input();
    let input_sum: f64 = input.iter().map(|&v| f64::from(v)).sum();
    assert!(
        (input_sum - f(&s["input_sum"])).abs() < 1e-2,
        "input recipe differs: sum {input_sum}"
    );

    let raw = common::detector().raw(&input).expect("BlazeFace runs");
    assert_eq!(raw.logits.len(), 896);
    assert_eq!(raw.regressors.len(), 896 * 16);
    let tol_logit = f(&s["tolerance_abs"]["score_logit"]) as f32;
    let tol_reg = f(&s["tolerance_abs"]["regressors"]) as f32;
    let top = s["top_k_by_score"].as_array().unwrap();
    assert!(!top.is_empty());
    for entry in top {
        let i = f(&entry["anchor_index"]) as usize;
        let want = f(&entry["score_logit"]) as f32;
        assert!(
            (raw.logits[i] - want).abs() <= tol_logit,
            "anchor {i}: logit {} vs {want}",
            raw.logits[i]
        );
        for (k, w) in entry["regressors"].as_array().unwrap().iter().enumerate() {
            let got = raw.regressors[i * 16 + k];
            assert!(
                (got - f(w) as f32).abs() <= tol_reg,
                "anchor {i} regressor {k}: {got} vs {}",
                f(w)
            );
        }
    }
    let rel = f(&s["tolerance_rel_sums"]);
    let sum_logits: f64 = raw.logits.iter().map(|&v| f64::from(v)).sum();
    let sum_abs: f64 = raw.regressors.iter().map(|&v| f64::from(v).abs()).sum();
    let want_l = f(&s["sum_score_logits"]);
    let want_r = f(&s["sum_abs_regressors"]);
    assert!(
        ((sum_logits - want_l) / want_l).abs() <= rel,
        "sum of logits {sum_logits} vs {want_l}"
    );
    assert!(
        ((sum_abs - want_r) / want_r).abs() <= rel,
        "sum |regressors| {sum_abs} vs {want_r}"
    );
}

#[test]
fn anchors_and_box_decoding_match_the_reference_port() {
    let r = reference();
    let cfg = DetectorConfig {
        min_score: 0.0,
        ..DetectorConfig::default()
    };
    let anchors = ssd_anchors(&cfg);
    for entry in r["synthetic_reference"]["top_k_by_score"]
        .as_array()
        .unwrap()
    {
        let i = f(&entry["anchor_index"]) as usize;
        let xywh: Vec<f32> = entry["anchor_xywh"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| f(v) as f32)
            .collect();
        assert_eq!(
            (anchors[i].cx, anchors[i].cy),
            (xywh[0], xywh[1]),
            "anchor {i}"
        );
        assert_eq!((xywh[2], xywh[3]), (1.0, 1.0));

        // Decode this anchor alone from the reference regressors and logit.
        let mut reg = vec![0f32; anchors.len() * 16];
        let mut logits = vec![-1000f32; anchors.len()];
        for (k, v) in entry["regressors"].as_array().unwrap().iter().enumerate() {
            reg[i * 16 + k] = f(v) as f32;
        }
        logits[i] = f(&entry["score_logit"]) as f32;
        let dets = decode_raw(&reg, &logits, &anchors, &cfg);
        let d = dets
            .iter()
            .find(|d| (d.score - f(&entry["decoded"]["score"]) as f32).abs() < 1e-5)
            .expect("decoded");
        let dec = &entry["decoded"];
        let size = cfg.input_size as f32;
        let close = |a: f32, b: f64| (a / size - b as f32).abs() < 1e-5;
        assert!(
            close(d.bbox.x, f(&dec["xmin"])) && close(d.bbox.y, f(&dec["ymin"])),
            "anchor {i} {:?}",
            d.bbox
        );
        assert!(
            close(d.bbox.x + d.bbox.w, f(&dec["xmax"]))
                && close(d.bbox.y + d.bbox.h, f(&dec["ymax"]))
        );
        for (k, kp) in dec["keypoints_xy"].as_array().unwrap().iter().enumerate() {
            assert!(
                close(d.keypoints[k].0, f(&kp[0])) && close(d.keypoints[k].1, f(&kp[1])),
                "kp {k}"
            );
        }
    }
}
