//! A device's signing key for sync: Ed25519 (RFC 8032) through `ed25519-dalek`.
//!
//! Everyone holding the Safe's keys can seal objects for the sync target, so sealing alone
//! cannot tell devices apart. Each device signs what it writes there with a key of its own,
//! which never leaves it; the other devices accept only what a device they approved signed.
//! Every signature covers a label naming what is signed, so one kind of object can never be
//! passed off as another.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::secret::SecretArray;

/// The length of a signature [`DeviceKey::sign`] makes.
pub const SIGNATURE_LEN: usize = 64;

/// A device's private signing key: zeroized on drop, redacted in `Debug`, never `Clone`.
pub struct DeviceKey(SigningKey);

/// A device's public key, as the other devices know it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DevicePublicKey([u8; 32]);

impl DeviceKey {
    /// A new key from the operating system's random source.
    ///
    /// # Errors
    /// [`Error::Random`] if the random source fails.
    pub fn generate() -> Result<Self, Error> {
        let mut seed = SecretArray::<32>::zeroed();
        getrandom::fill(seed.expose_mut()).map_err(|_| Error::Random)?;
        Ok(Self(SigningKey::from_bytes(seed.expose())))
    }

    /// The key stored by [`DeviceKey::to_secret_bytes`]; `None` if it is not 32 bytes.
    #[must_use]
    pub fn from_secret_bytes(bytes: &[u8]) -> Option<Self> {
        let seed = SecretArray::<32>::from_slice(bytes)?;
        Some(Self(SigningKey::from_bytes(seed.expose())))
    }

    /// The private key's bytes, for storage inside the encrypted database only.
    #[must_use]
    pub fn to_secret_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.0.to_bytes())
    }

    #[must_use]
    pub fn public(&self) -> DevicePublicKey {
        DevicePublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message` for the purpose `label` names.
    #[must_use]
    pub fn sign(&self, label: &str, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(&labelled(label, message)).to_bytes()
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKey({:?})", self.public())
    }
}

impl DevicePublicKey {
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Whether `signature` is this key's over `message` for `label` (strict verification: no
    /// malleable or small-order signatures).
    #[must_use]
    pub fn verifies(&self, label: &str, message: &[u8], signature: &[u8]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        key.verify_strict(&labelled(label, message), &signature)
            .is_ok()
    }

    /// A short code people compare on two screens to know they approve the right device:
    /// the first 100 bits of the key's SHA-256, as four groups of five base-32 symbols.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        const SYMBOLS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let digest = Sha256::digest(self.0);
        let mut bits: u128 = 0;
        for byte in &digest[..13] {
            bits = (bits << 8) | u128::from(*byte);
        }
        // 104 bits read; the first 100 make the code.
        bits >>= 4;
        let symbols: Vec<char> = (0..20)
            .rev()
            .map(|index| char::from(SYMBOLS[((bits >> (index * 5)) & 31) as usize]))
            .collect();
        symbols
            .chunks(5)
            .map(|group| group.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl fmt::Debug for DevicePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DevicePublicKey({})", self.fingerprint())
    }
}

/// The label, a zero byte, then the message: no label is a prefix of another's message.
fn labelled(label: &str, message: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(label.len() + 1 + message.len());
    bytes.extend_from_slice(label.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(message);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_key_label_and_message() {
        let key = DeviceKey::generate().unwrap();
        let other = DeviceKey::generate().unwrap();
        let signature = key.sign("arca test", b"message");
        assert!(key.public().verifies("arca test", b"message", &signature));
        assert!(!other.public().verifies("arca test", b"message", &signature));
        assert!(!key.public().verifies("arca other", b"message", &signature));
        assert!(!key.public().verifies("arca test", b"messagE", &signature));
        assert!(
            !key.public()
                .verifies("arca test", b"message", &signature[..63])
        );
        let mut flipped = signature;
        flipped[10] ^= 1;
        assert!(!key.public().verifies("arca test", b"message", &flipped));
        // The label is not a prefix that a message can borrow.
        assert!(!key.public().verifies("arca", b" test\0message", &signature));
    }

    #[test]
    fn a_stored_key_signs_as_the_original() {
        let key = DeviceKey::generate().unwrap();
        let again = DeviceKey::from_secret_bytes(&key.to_secret_bytes()[..]).unwrap();
        assert_eq!(key.public(), again.public());
        assert!(DeviceKey::from_secret_bytes(&[0; 31]).is_none());
        assert!(!format!("{key:?}").contains(&hex::encode(&key.to_secret_bytes()[..])));
    }

    #[test]
    fn rfc_8032_test_vector_1() {
        let secret =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        let key = DeviceKey::from_secret_bytes(&secret).unwrap();
        assert_eq!(
            hex::encode(key.public().to_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let signature = key.0.sign(b"").to_bytes();
        assert_eq!(
            hex::encode(signature),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn fingerprints_are_four_groups_of_five_from_the_keys_hash() {
        let fingerprint = DeviceKey::generate().unwrap().public().fingerprint();
        assert_eq!(fingerprint.len(), 23, "{fingerprint}");
        assert_eq!(fingerprint.matches('-').count(), 3);
        // SHA-256 of 32 zero bytes starts 66687aadf862bd776c8fc18b8e9f8e: its first 100
        // bits, five at a time.
        let zero = DevicePublicKey::from_bytes([0; 32]).fingerprint();
        assert_eq!(zero, "CSM7N-BFRCA-YQEV4-FR65R");
        // Every symbol varies: no position is fixed by the arithmetic.
        let codes: Vec<String> = (0..64)
            .map(|_| DeviceKey::generate().unwrap().public().fingerprint())
            .collect();
        for position in 0..23 {
            let symbols: std::collections::HashSet<char> = codes
                .iter()
                .filter_map(|code| code.chars().nth(position))
                .collect();
            assert!(
                symbols.len() > 1 || position % 6 == 5,
                "position {position}"
            );
        }
    }
}
