//! Async encrypt and decrypt on tokio: one-shot calls, and streams through `tokio::io`.
//!
//! Keyrings are async because some call a key service; on a runtime, await the calls. The
//! stream adapters encrypt and decrypt with memory bounded by the frame length.
//!
//! Run: `cargo run --example async_tokio --features tokio`

use esdk::stream::tokio::{AsyncDecryptingReader, AsyncEncryptingWriter};
use esdk::{Client, DecryptOptions, EncryptOptions, EncryptionContext, RawAesKeyring};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key)?;
    let keyring = RawAesKeyring::new("esdk-example", "async-key", &key)?;
    let client = Client::default();
    let context = EncryptionContext::from([("purpose", "async example")]);

    // One-shot.
    let message = client.encrypt(&keyring, b"one message", &context).await?;
    let decrypted = client.decrypt(&keyring, &message).await?;
    assert_eq!(decrypted.plaintext, b"one message");
    println!("one-shot: {} bytes round trip", decrypted.plaintext.len());

    // Streams: encrypt 1 MiB through a 64 KiB pipe read by another task, then decrypt it.
    let plaintext: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let (pipe_in, mut pipe_out) = tokio::io::duplex(64 * 1024);
    let collector = tokio::spawn(async move {
        let mut message = Vec::new();
        pipe_out.read_to_end(&mut message).await.map(|_| message)
    });
    let options = EncryptOptions::new()
        .encryption_context(context.clone())
        .plaintext_length(plaintext.len() as u64);
    let mut writer = AsyncEncryptingWriter::new(&client, &keyring, &options, pipe_in).await?;
    for chunk in plaintext.chunks(10_000) {
        writer.write_all(chunk).await?;
    }
    writer.shutdown().await?; // writes the final frame and the signature
    drop(writer);
    let message = collector.await??;

    let options = DecryptOptions::new().reproduced_context(context);
    let mut reader =
        AsyncDecryptingReader::new(&client, &keyring, &options, message.as_slice()).await?;
    let mut decrypted = Vec::new();
    // End of stream only once the whole message, signature included, verified.
    reader.read_to_end(&mut decrypted).await?;
    assert_eq!(decrypted, plaintext);
    println!(
        "streamed: {} plaintext bytes in a {}-byte message, verification {:?}",
        decrypted.len(),
        message.len(),
        reader.verification()
    );
    Ok(())
}
