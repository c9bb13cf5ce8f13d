//! The Rust pipeline builds bit-identical model inputs from the images that training/ exported
//! (models/parity/emotion_*.png) and tract's outputs for models/emotion_fp32.onnx match the float
//! PyTorch logits recorded in models/parity/emotion_parity.json.

use emoji_pipeline::{enhance, face_tensor_input, softmax, Contract, EmotionClassifier};
use serde_json::Value;

use super::common;

fn parity() -> Value {
    serde_json::from_slice(&common::model_bytes("parity/emotion_parity.json"))
        .expect("parity JSON parses")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn the_parity_file_uses_the_contract_labels_and_the_float_model() {
    let p = parity();
    let labels: Vec<&str> = p["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        Contract::shipped()
            .labels
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(p["model"], "emotion_fp32.onnx");
    assert!(p["cases"].as_array().is_some_and(|c| !c.is_empty()));
}

#[test]
fn preprocessing_and_logits_match_training() {
    let p = parity();
    let contract = Contract::shipped();
    let classifier =
        EmotionClassifier::from_bytes(&common::model_bytes("emotion_fp32.onnx"), contract)
            .expect("model loads");
    let tol_in = num(&p["tolerance"]["input_abs"]) as f32;
    let tol_logit = num(&p["tolerance"]["logits_abs"]) as f32;
    let mut inputs = Vec::new();
    for case in p["cases"].as_array().unwrap() {
        let name = case["image"].as_str().unwrap();
        let grey = common::aligned(&common::model_bytes(&format!("parity/{name}")));

        // The 8-bit image after contrast + equalisation: exactly the same bytes.
        let want: Vec<u8> = case["preprocessed_u8"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| num(v) as u8)
            .collect();
        assert_eq!(
            enhance(&grey, contract).as_raw(),
            &want,
            "{name}: preprocessed bytes differ"
        );

        // The float input.
        let input = face_tensor_input(&grey, contract);
        for (k, w) in case["input_first"].as_array().unwrap().iter().enumerate() {
            assert!(
                (input[k] - num(w) as f32).abs() <= tol_in,
                "{name}: input[{k}] {} vs {w}",
                input[k]
            );
        }
        let sum: f64 = input.iter().map(|&v| f64::from(v)).sum();
        let abs: f64 = input.iter().map(|&v| f64::from(v).abs()).sum();
        assert!(
            (sum - num(&case["input_sum"])).abs() <= 1e-2,
            "{name}: input sum {sum}"
        );
        assert!(
            (abs - num(&case["input_abs_sum"])).abs() <= 1e-2,
            "{name}: input |sum| {abs}"
        );
        inputs.push((name.to_string(), input, case.clone()));
    }
    // One batch through tract, compared case by case.
    let flat: Vec<f32> = inputs
        .iter()
        .flat_map(|(_, i, _)| i.iter().copied())
        .collect();
    let logits = classifier
        .logits(&flat, inputs.len())
        .expect("the model runs");
    for ((name, _, case), got) in inputs.iter().zip(&logits) {
        let want: Vec<f32> = case["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| num(v) as f32)
            .collect();
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= tol_logit, "{name}: logit {k}: {g} vs {w}");
        }
        let probs = softmax(got);
        let top = emoji_pipeline::argmax(&probs);
        assert_eq!(
            contract.labels[top],
            case["top"].as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn classify_gives_the_same_probabilities_one_by_one_and_in_a_batch() {
    let contract = Contract::shipped();
    for model in [
        "emotion_fp32.onnx",
        "emotion_int8.onnx",
        "emotion_int8.nnef.tar",
    ] {
        let c = EmotionClassifier::from_bytes(&common::model_bytes(model), contract)
            .expect("model loads");
        let p = parity();
        let faces: Vec<_> = p["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|case| {
                let name = case["image"].as_str().unwrap();
                common::aligned(&common::model_bytes(&format!("parity/{name}")))
            })
            .collect();
        let batch = c.classify(&faces).expect("batch");
        assert_eq!(batch.len(), faces.len());
        for (f, b) in faces.iter().zip(&batch) {
            let one = c.classify(std::slice::from_ref(f)).expect("one");
            assert!((b.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            for (x, y) in one[0].iter().zip(b) {
                assert!((x - y).abs() < 1e-4, "{model}: batch and single differ");
            }
        }
        // A face of the wrong size is a typed error, not a panic.
        let wrong = image::GrayImage::new(10, 10);
        assert!(c.classify(&[wrong]).is_err());
        assert!(c.classify(&[]).expect("empty batch").is_empty());
    }
}

/// Test-time flip is computed the same way on both sides: the classifier with the contract's flip on gives, for
/// each parity image, the probabilities that training/ computed in PyTorch (the mean of the softmax of the face
/// and of its mirror image).
#[test]
fn test_time_flip_matches_training() {
    let p = parity();
    let contract = Contract {
        test_time_flip: true,
        ..Contract::shipped().clone()
    };
    let classifier =
        EmotionClassifier::from_bytes(&common::model_bytes("emotion_fp32.onnx"), &contract)
            .expect("model loads");
    let tol = num(&p["tolerance"]["probabilities_abs"]) as f32;
    for case in p["cases"].as_array().unwrap() {
        let name = case["image"].as_str().unwrap();
        let face = common::aligned(&common::model_bytes(&format!("parity/{name}")));
        let got = classifier
            .classify(std::slice::from_ref(&face))
            .expect("classifies");
        let want: Vec<f32> = case["flip_probabilities"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no flip_probabilities (re-run tools.py export)"))
            .iter()
            .map(|v| num(v) as f32)
            .collect();
        for (k, (g, w)) in got[0].iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= tol, "{name}: class {k}: {g} vs {w}");
        }
    }
}
