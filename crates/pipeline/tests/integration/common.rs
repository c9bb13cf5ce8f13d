//! Shared by the integration tests: where the models and the FER2013 data are.

#![allow(dead_code)]

use std::path::PathBuf;

/// The repository's models/ folder.
pub fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

/// Bytes of a file in models/, or a panic naming it.
pub fn model_bytes(name: &str) -> Vec<u8> {
    let path = models().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The FER2013 folder: $EMOJI_MIRROR_DATA, else ../shared/data/fer2013 next to the repository.
/// Missing data fails the test with instructions; it never passes silently.
pub fn data_dir() -> PathBuf {
    let dir = match std::env::var_os("EMOJI_MIRROR_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fer2013"),
    };
    assert!(
        dir.join("val").is_dir(),
        "FER2013 data not found at {} (expected val/<class>/*.jpg); set EMOJI_MIRROR_DATA to the fer2013 folder",
        dir.display()
    );
    dir
}

/// Every `n`-th image of each class folder of val/, sorted by name, with its folder name.
pub fn val_sample(every: usize) -> Vec<(PathBuf, String)> {
    let val = data_dir().join("val");
    let mut classes: Vec<PathBuf> = std::fs::read_dir(&val)
        .unwrap_or_else(|e| panic!("reading {}: {e}", val.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    classes.sort();
    let mut out = Vec::new();
    for c in classes {
        let name = c.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&c)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        out.extend(
            files
                .into_iter()
                .step_by(every.max(1))
                .map(|p| (p, name.clone())),
        );
    }
    out
}
