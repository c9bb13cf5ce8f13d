//! What the tests of the crates share, in one place: where the repository's models and the FER2013 data are, the
//! val faces, and scratch folders. A dev-dependency only; it knows no pipeline type, so the pipeline's own tests
//! can use it too.

use std::path::{Path, PathBuf};

use image::GrayImage;

/// The repository's root folder: the nearest folder holding `models/preprocess.json` above the running test's
/// package (cargo sets `CARGO_MANIFEST_DIR` when it runs a test), else above this crate as it was compiled. Found at
/// run time because a build cache shared by two checkouts keeps the path of the checkout that compiled this crate.
pub fn repo_root() -> PathBuf {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .and_then(|dir| {
            dir.ancestors()
                .find(|d| d.join("models/preprocess.json").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or(compiled)
}

/// The repository's models/ folder (what ships, the ONNX exports, the parity files).
pub fn models_dir() -> PathBuf {
    repo_root().join("models")
}

/// Bytes of a file in models/, or a panic naming it.
pub fn model_bytes(name: &str) -> Vec<u8> {
    let path = models_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The FER2013 folder: $EMOJI_MIRROR_DATA, else ../shared/data/fer2013 next to the repository.
/// Missing data fails the test with instructions; it never passes silently.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("EMOJI_MIRROR_DATA")
        .map_or_else(|| repo_root().join("../shared/data/fer2013"), PathBuf::from);
    assert!(
        dir.join("val").is_dir(),
        "FER2013 data not found at {} (expected val/<class>/*.jpg); set EMOJI_MIRROR_DATA to the fer2013 folder",
        dir.display()
    );
    dir
}

/// The entries of a folder, sorted by name, or a panic naming it.
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    paths
}

/// The images of val/`class` (a class folder name), sorted by name.
pub fn val_faces(class: &str) -> Vec<PathBuf> {
    sorted_entries(&data_dir().join("val").join(class))
}

/// Every `n`-th image of each class folder of val/, sorted by name, with its folder name.
pub fn val_sample(every: usize) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for class in sorted_entries(&data_dir().join("val")) {
        if !class.is_dir() {
            continue;
        }
        let name = class
            .file_name()
            .expect("a class folder has a name")
            .to_string_lossy()
            .into_owned();
        out.extend(
            sorted_entries(&class)
                .into_iter()
                .step_by(every.max(1))
                .map(|p| (p, name.clone())),
        );
    }
    out
}

/// An image file in grey, or a panic naming it.
pub fn load_grey(path: &Path) -> GrayImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()))
        .to_luma8()
}

/// A new, empty folder for one test's files (under the system's temporary folder, named after this process and
/// `name`).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("emoji-mirror-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}
