//! Encrypts and decrypts a string with a raw AES keyring (work in progress).
fn main() {
    println!("esdk {}", esdk::VERSION);
}
