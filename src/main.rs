//! Placeholder until the site lands (issue 5).
fn main() {}
