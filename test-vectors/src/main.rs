//! Test-vector runner for esdk.
fn main() {
    println!("esdk {}", esdk::VERSION);
}
