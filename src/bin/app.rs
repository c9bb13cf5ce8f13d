//! The page's entry point (trunk `data-bin="app"`): mounts the yew app.
fn main() {
    emoji_mirror_site::start_app();
}
