//! The lab's fault-injection demo in the terminal: sections A–F, as the lab prints them.
//!
//! `cargo run -p reliability-core --example demo`

fn main() {
    let settings = reliability_core::lab::Settings::default();
    print!("{}", reliability_core::demo::render(&settings));
}
