//! The NNEF archives that ship (models/*.nnef.tar, what the site fetches and the CLI compiles in) are exactly what
//! `onnx_to_nnef` makes of the ONNX files next to them, and run the same numbers on real faces.

use emoji_pipeline::{
    onnx_to_nnef, Contract, DetectorConfig, EmotionClassifier, FaceDetector, ModelFormat, Pipeline,
    Stream, Views, SHIPPED_DETECTOR, SHIPPED_EMOTION,
};

use crate::common;

#[test]
fn the_shipped_archives_are_the_conversion_of_the_onnx_files_byte_for_byte() {
    for (onnx, nnef, input, shipped) in [
        (
            "emotion_int8.onnx",
            "emotion_int8.nnef.tar",
            EmotionClassifier::input_shape(Contract::shipped()),
            SHIPPED_EMOTION,
        ),
        (
            "blazeface_short_range.onnx",
            "blazeface_short_range.nnef.tar",
            FaceDetector::input_shape(&DetectorConfig::default()),
            SHIPPED_DETECTOR,
        ),
    ] {
        let converted = onnx_to_nnef(&common::model_bytes(onnx), &input).expect("converts");
        let committed = common::model_bytes(nnef);
        assert!(
            converted == committed,
            "models/{nnef} is not the conversion of models/{onnx}: run \
             `emoji-mirror convert --kind ... models/{onnx} models/{nnef}`"
        );
        assert!(
            shipped == committed.as_slice(),
            "the compiled-in {nnef} is stale"
        );
        assert_eq!(ModelFormat::of(&committed), ModelFormat::Nnef);
    }
}

#[test]
fn int8_weights_stay_int8_in_the_archive() {
    let onnx = common::model_bytes("emotion_int8.onnx").len() as f64;
    let nnef = common::model_bytes("emotion_int8.nnef.tar").len() as f64;
    // Float weights would make it about four times larger.
    assert!(
        nnef < 1.1 * onnx,
        "{nnef} bytes against {onnx} for the ONNX file"
    );
}

#[test]
fn the_archive_and_the_onnx_file_give_identical_probabilities_on_val_faces() {
    let contract = Contract::shipped();
    let onnx =
        EmotionClassifier::from_bytes(&common::model_bytes("emotion_int8.onnx"), contract).unwrap();
    let nnef =
        EmotionClassifier::from_bytes(&common::model_bytes("emotion_int8.nnef.tar"), contract)
            .unwrap();
    let faces: Vec<_> = common::val_sample(40)
        .iter()
        .map(|(path, _)| common::aligned(&std::fs::read(path).unwrap()))
        .collect();
    assert!(faces.len() > 50, "{} val faces", faces.len());
    assert_eq!(
        onnx.classify(&faces).unwrap(),
        nnef.classify(&faces).unwrap()
    );
}

#[test]
fn the_blazeface_archive_gives_identical_raw_outputs() {
    let onnx =
        FaceDetector::from_bytes(&common::model_bytes("blazeface_short_range.onnx")).unwrap();
    let nnef =
        FaceDetector::from_bytes(&common::model_bytes("blazeface_short_range.nnef.tar")).unwrap();
    let s = onnx.config().input_size as usize;
    let input: Vec<f32> = (0..3 * s * s)
        .map(|i| ((i * 31) % 256) as f32 / 127.5 - 1.0)
        .collect();
    let (a, b) = (onnx.raw(&input).unwrap(), nnef.raw(&input).unwrap());
    assert_eq!(a.regressors, b.regressors);
    assert_eq!(a.logits, b.logits);
}

#[test]
fn the_shipped_pipeline_loads_from_the_archives() {
    let pipeline = Pipeline::shipped().expect("shipped models load");
    assert_eq!(pipeline.contract().labels.len(), emoji_pipeline::LABELS_LEN);
}

/// Test-time flip (the contract's `test_time_flip`): a face and its mirror image get the same probabilities, the mean
/// of what the classifier without the flip gives for the two.
#[test]
fn test_time_flip_averages_a_face_and_its_mirror() {
    let plain_contract = Contract {
        test_time_flip: false,
        ..Contract::shipped().clone()
    };
    let flip_contract = Contract {
        test_time_flip: true,
        ..plain_contract.clone()
    };
    let plain = EmotionClassifier::from_bytes(SHIPPED_EMOTION, &plain_contract).unwrap();
    let flip = EmotionClassifier::from_bytes(SHIPPED_EMOTION, &flip_contract).unwrap();
    let faces: Vec<_> = common::val_sample(300)
        .iter()
        .map(|(path, _)| common::load_grey(path))
        .collect();
    let mirrors: Vec<_> = faces.iter().map(image::imageops::flip_horizontal).collect();
    let (p, pm) = (
        plain.classify(&faces).unwrap(),
        plain.classify(&mirrors).unwrap(),
    );
    let (f, fm) = (
        flip.classify(&faces).unwrap(),
        flip.classify(&mirrors).unwrap(),
    );
    let mut changed = 0;
    for i in 0..faces.len() {
        for c in 0..p[i].len() {
            let mean = (p[i][c] + pm[i][c]) / 2.0;
            assert!(
                (f[i][c] - mean).abs() < 1e-4,
                "face {i}, class {c}: {} vs mean {mean}",
                f[i][c]
            );
            assert!(
                (fm[i][c] - f[i][c]).abs() < 1e-4,
                "face {i}: its mirror differs"
            );
            if (f[i][c] - p[i][c]).abs() > 1e-3 {
                changed += 1;
            }
        }
    }
    assert!(changed > 0, "the flip changed nothing: is the mirror used?");
}

/// A live stream reads each face and its mirror on alternate frames (one classification a frame, the tracker's
/// smoothing averages them): two frames in turn give exactly the face's and the mirror's probabilities, whose mean is
/// what a photo of the same frame gets at once.
#[test]
fn a_stream_reads_a_face_and_its_mirror_in_turn() {
    let pipeline = Pipeline::shipped().expect("shipped models load");
    assert!(
        pipeline.contract().test_time_flip,
        "the shipped contract flips"
    );
    let (path, _) = &common::val_sample(300)[3];
    let face = common::load_grey(path);
    let (frame, _) = emoji_pipeline::synth::frame_with_face(&face, 640, 480, 200, 100, 220, 3);
    let top = |a: &emoji_pipeline::Analysis| a.faces.first().expect("a face").probabilities;
    let photo = top(&pipeline.analyze(&frame).unwrap());
    let mut stream = Stream::new();
    let analyses: Vec<_> = (0..3)
        .map(|_| pipeline.analyze_in_stream(&frame, &mut stream).unwrap())
        .collect();
    let views: Vec<_> = analyses.iter().map(top).collect();
    let classifier = pipeline.classifier();
    // Each frame's crop from the box that frame found (the third re-finds the face in a window: its own box).
    let crop = |a: &emoji_pipeline::Analysis| {
        emoji_pipeline::face_crop(&frame, &a.faces[0].detection, pipeline.contract())
    };
    let read = |a: &emoji_pipeline::Analysis, view| {
        classifier
            .classify_views(std::slice::from_ref(&crop(a)), view)
            .unwrap()[0]
    };
    let mirrored = image::imageops::flip_horizontal(&crop(&analyses[1]));
    let mirror_as_face = classifier
        .classify_views(std::slice::from_ref(&mirrored), Views::Face)
        .unwrap()[0];
    let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4);
    assert!(
        close(&read(&analyses[1], Views::Mirror), &mirror_as_face),
        "the mirror view is the mirrored face's"
    );
    assert!(
        close(&views[0], &read(&analyses[0], Views::Face))
            && close(&views[1], &read(&analyses[1], Views::Mirror)),
        "frames read the face, then its mirror"
    );
    assert!(
        close(&views[2], &read(&analyses[2], Views::Face)),
        "and then the face again"
    );
    assert!(
        !close(&views[0], &views[1]),
        "the two views differ for this face"
    );
    let mean: Vec<f32> = views[0]
        .iter()
        .zip(&views[1])
        .map(|(a, b)| (a + b) / 2.0)
        .collect();
    assert!(
        close(&mean, &photo),
        "their mean is the photo's: {mean:?} vs {photo:?}"
    );
}

#[test]
fn one_face_alone_reads_as_it_does_in_a_batch() {
    // A live frame's single face runs a plan optimised for a batch of one; photos and `evaluate` send batches.
    let pipeline = Pipeline::shipped().expect("shipped models load");
    let classifier = pipeline.classifier();
    let faces: Vec<_> = common::val_sample(300)
        .iter()
        .take(7)
        .map(|(path, _)| common::load_grey(path))
        .collect();
    let batched = classifier.classify_views(&faces, Views::Face).unwrap();
    for (face, in_batch) in faces.iter().zip(&batched) {
        let alone = classifier
            .classify_views(std::slice::from_ref(face), Views::Face)
            .unwrap()[0];
        let worst = alone
            .iter()
            .zip(in_batch)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "alone {alone:?}, in a batch {in_batch:?}");
    }
}

#[test]
fn the_op_profile_times_every_node_of_both_networks() {
    let pipeline = Pipeline::shipped().unwrap();
    let detector = pipeline.detector().op_profile(1, 2).unwrap();
    let classifier = pipeline.classifier().op_profile(1, 2).unwrap();
    for (net, ops) in [("detector", &detector), ("classifier", &classifier)] {
        // Convolutions run as matrix products; every kind appears once, the costliest first.
        assert!(ops.iter().any(|o| o.op == "OptMatMul"), "{net}: {ops:?}");
        assert!(ops.windows(2).all(|w| w[0].ms >= w[1].ms), "{net}: {ops:?}");
        let mut kinds: Vec<&str> = ops.iter().map(|o| o.op.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), ops.len(), "{net}: {ops:?}");
        assert!(
            ops.iter().all(|o| o.nodes > 0 && o.ms >= 0.0),
            "{net}: {ops:?}"
        );
        assert!(
            ops.iter().map(|o| o.ms).sum::<f64>() > 0.0,
            "{net}: nothing timed"
        );
    }
    // BlazeFace is built of depthwise convolutions; the emotion net has none.
    assert!(detector.iter().any(|o| o.op == "DepthWiseConv"));
    assert!(!classifier.iter().any(|o| o.op == "DepthWiseConv"));
}
