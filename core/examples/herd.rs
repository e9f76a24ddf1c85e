//! The thundering herd in the terminal: writes attempted and completion time per strategy.
//!
//! `cargo run -p reliability-core --release --example herd`

use reliability_core::herd::{sweep, Strategy};
use reliability_core::time::Secs;

fn main() {
    let counts = [10, 20, 30, 40, 50, 75, 100];
    let seeds = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let points = sweep(&counts, seeds, 1);
    println!(
        "{:<14} {}",
        "clients",
        counts.map(|c| format!("{c:>16}")).join("")
    );
    for s in Strategy::ALL {
        let row: Vec<String> = points
            .iter()
            .filter(|p| p.strategy == s)
            .map(|p| {
                format!(
                    "{:>7.0} {:>8}",
                    p.calls,
                    Secs(p.completion as u64).to_string()
                )
            })
            .collect();
        println!("{:<14} {}", s.label(), row.join(""));
    }
}
