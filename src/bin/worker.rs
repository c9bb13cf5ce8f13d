//! The inference worker's entry point (trunk `data-bin="worker" data-type="worker"`).
fn main() {
    emoji_mirror_site::worker::start();
}
