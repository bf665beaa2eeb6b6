//! Arca's Cryptor: every security operation of Arca, and the only code that touches key bytes.
//!
//! - [RNCryptor data format v3](format) in both directions, streaming in constant memory:
//!   [`Encryptor`], [`Decryptor`] / [`decrypt`]. Decrypted cleartext goes to a [`Sink`] that
//!   releases it only after the HMAC has matched ([`CleartextBuffer`], [`AtomicFile`]).
//!   A large stream can be sealed on two threads with [`encrypt_pipelined`], into the same bytes.
//! - Random access into a key-based message ([`SeekableDecryptor`]), checked chunk by chunk
//!   against the hashes [`ChunkHasher`] recorded when it was written.
//! - PBKDF2-HMAC-SHA1 with an explicit [`Iterations`] count; a message's two keys are derived
//!   in parallel.
//! - A device's sync signing key ([`DeviceKey`], Ed25519).
//! - The Safe Key File and Recovery Key File ([`SafeKeys`]), and [`RecoveryKey`]s.
//! - Secret types ([`Password`], [`EncryptionKey`], [`HmacKey`], [`CipherKeys`]): zeroized on
//!   drop, redacted in `Debug`, never `Clone`, `Serialize` or `PartialEq`.
//!
//! Hazard first: an [`Encryptor`] must be [finished](Encryptor::finish), or the message is
//! incomplete; and the [`hazmat`] functions are unauthenticated primitives for test vectors and
//! benchmarks only.

#![forbid(unsafe_code)]

mod crash_point;
mod credentials;
mod decrypt;
mod decrypt_pipelined;
mod device_key;
mod durable;
mod encrypt;
mod error;
pub mod format;
mod kdf;
mod key_file;
mod pipelined;
mod primitives;
mod process;
mod recovery;
mod secret;
mod seekable;
mod sink;
mod stack;

pub use crash_point::crash_point;
#[cfg(feature = "crash-points")]
pub use crash_point::crash_points_passed;
pub use credentials::Credentials;
pub use decrypt::{Decryptor, decrypt, decrypt_with};
pub use decrypt_pipelined::decrypt_pipelined;
pub use device_key::{DeviceKey, DevicePublicKey, SIGNATURE_LEN};
pub use durable::{
    AtomicFile, PARTIAL_EXPORT_SUFFIX, Prepared, is_partial_export, sync_parent_dir,
    write_atomically_deferred, write_atomically_private,
};
pub use encrypt::{Encryptor, HashingEncryptor};
pub use error::{Error, RecoveryKeyTypo};
pub use format::{HmacTag, Mode};
pub use kdf::Iterations;
pub use key_file::{KEY_FILE_PAYLOAD_VERSION, KeyPurpose, SafeKeys};
pub use pipelined::{
    PIPELINE_MIN_LEN, PipelineError, Sealed, encrypt_pipelined, encrypt_pipelined_hashing_chunks,
    encrypt_pipelined_with_rng,
};
pub use process::keep_secrets_out_of_core_dumps;
pub use recovery::{RECOVERY_KEY_SYMBOLS, RecoveryKey};
pub use secret::{CipherKeys, EncryptionKey, HmacKey, Password};
pub use seekable::{CHUNK_LEN, ChunkHasher, ChunkHashes, Keyed, SeekableDecryptor, chunk_hashes};
pub use sink::{CleartextBuffer, Sink};
pub use stack::scrub_stack;

/// Unauthenticated primitives, exposed so that standard test vectors (Wycheproof) and benchmarks
/// run through the same code the messages use. Never use them to protect data.
pub mod hazmat {
    use hmac::Mac;

    use crate::format::{BLOCK_LEN, IV_LEN, KEY_LEN};
    use crate::primitives::{CbcDecryptor, CbcEncryptor, new_mac, pkcs7_pad, pkcs7_unpadded_len};

    /// PBKDF2-HMAC-SHA1 filling `out`.
    pub fn pbkdf2_sha1(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        crate::kdf::pbkdf2_sha1(password, salt, iterations, out);
    }

    /// HMAC-SHA256 of `data` under a key of any length.
    pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = new_mac(key);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// AES-256-CBC with PKCS#7 padding.
    pub fn aes256_cbc_encrypt(key: &[u8; KEY_LEN], iv: &[u8; IV_LEN], cleartext: &[u8]) -> Vec<u8> {
        let whole = cleartext.len() - cleartext.len() % BLOCK_LEN;
        let mut out = vec![0u8; whole + BLOCK_LEN];
        let mut cbc = CbcEncryptor::new(key, iv);
        cbc.encrypt_blocks(&cleartext[..whole], &mut out[..whole]);
        out[whole..].copy_from_slice(&pkcs7_pad(&cleartext[whole..]));
        cbc.encrypt_blocks_in_place(&mut out[whole..]);
        out
    }

    /// AES-256-CBC decryption with PKCS#7 padding; `None` if the length or padding is invalid.
    pub fn aes256_cbc_decrypt(
        key: &[u8; KEY_LEN],
        iv: &[u8; IV_LEN],
        ciphertext: &[u8],
    ) -> Option<Vec<u8>> {
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
            return None;
        }
        let mut out = ciphertext.to_vec();
        CbcDecryptor::new(key, iv).decrypt_blocks_in_place(&mut out);
        let last: &[u8; BLOCK_LEN] = out[out.len() - BLOCK_LEN..].try_into().ok()?;
        let kept = out.len() - BLOCK_LEN + pkcs7_unpadded_len(last)?;
        out.truncate(kept);
        Some(out)
    }

    /// AES-256-CBC over whole blocks in place, no padding: the raw limit a benchmark compares
    /// the streaming encryptor with.
    pub fn aes256_cbc_encrypt_blocks_in_place(
        key: &[u8; KEY_LEN],
        iv: &[u8; IV_LEN],
        blocks: &mut [u8],
    ) {
        let mut cbc = CbcEncryptor::new(key, iv);
        for chunk in blocks.chunks_mut(64 * 1024) {
            let whole = chunk.len() - chunk.len() % BLOCK_LEN;
            cbc.encrypt_blocks_in_place(&mut chunk[..whole]);
        }
    }
}
