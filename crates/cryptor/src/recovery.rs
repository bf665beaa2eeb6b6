//! Recovery keys: 130 random bits a person writes down and types back.
//!
//! 26 random symbols of Crockford's base32 (digits and letters without I, L, O, U), then 4
//! checksum symbols (the first 20 bits of SHA-256 over the 26), shown as six groups of five:
//! `7K3QF-9XW2M-…`. Typing tolerates case, spaces and dashes, and reads I and L as 1 and O as 0;
//! a wrong checksum is reported as a typo, never tried as a key. The grouped text is the
//! RNCryptor password of the Recovery Key File.

use std::fmt;

use getrandom::SysRng;
use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, RecoveryKeyTypo};
use crate::secret::Password;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DATA_SYMBOLS: usize = 26;
const CHECK_SYMBOLS: usize = 4;
/// Symbols in a recovery key, without separators.
pub const RECOVERY_KEY_SYMBOLS: usize = DATA_SYMBOLS + CHECK_SYMBOLS;
const GROUP_LEN: usize = 5;

/// A recovery key. Its text is secret: zeroized on drop, redacted in `Debug`.
pub struct RecoveryKey(Password);

impl RecoveryKey {
    /// A new random recovery key.
    ///
    /// # Errors
    /// [`Error::Random`] if the system random number generator fails.
    pub fn generate() -> Result<Self, Error> {
        Self::generate_with_rng(&mut SysRng)
    }

    /// A new recovery key drawn from `rng`.
    ///
    /// # Errors
    /// [`Error::Random`] if `rng` fails.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut random = Zeroizing::new([0u8; DATA_SYMBOLS]);
        rng.try_fill_bytes(&mut random[..])
            .map_err(|_| Error::Random)?;
        // 256 is a multiple of 32, so the low five bits of a uniform byte are uniform.
        let data: Zeroizing<Vec<u8>> = Zeroizing::new(
            random
                .iter()
                .map(|byte| ALPHABET[usize::from(byte & 0x1f)])
                .collect(),
        );
        Ok(Self::from_data_symbols(&data))
    }

    /// Reads a recovery key as a person typed it.
    ///
    /// # Errors
    /// [`Error::RecoveryKeyTypo`] naming what is wrong: the length, a character, or the checksum.
    pub fn parse(typed: &str) -> Result<Self, Error> {
        let mut symbols = Zeroizing::new(Vec::with_capacity(RECOVERY_KEY_SYMBOLS));
        for character in typed.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let symbol = match character.to_ascii_uppercase() {
                'O' => b'0',
                'I' | 'L' => b'1',
                upper if upper.is_ascii() && ALPHABET.contains(&(upper as u8)) => upper as u8,
                _ => {
                    return Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Character {
                        position: symbols.len() + 1,
                        character,
                    }));
                }
            };
            symbols.push(symbol);
        }
        if symbols.len() != RECOVERY_KEY_SYMBOLS {
            return Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Length {
                found: symbols.len(),
                expected: RECOVERY_KEY_SYMBOLS,
            }));
        }
        let (data, check) = symbols.split_at(DATA_SYMBOLS);
        if checksum(data) != check {
            return Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Checksum));
        }
        Ok(Self::from_data_symbols(data))
    }

    fn from_data_symbols(data: &[u8]) -> Self {
        let mut symbols = Zeroizing::new(data.to_vec());
        symbols.extend_from_slice(&checksum(data));
        let mut text =
            String::with_capacity(RECOVERY_KEY_SYMBOLS + RECOVERY_KEY_SYMBOLS / GROUP_LEN);
        for (index, group) in symbols.chunks(GROUP_LEN).enumerate() {
            if index > 0 {
                text.push('-');
            }
            text.extend(group.iter().map(|&symbol| char::from(symbol)));
        }
        Self(Password::new(text))
    }

    /// The key in its canonical grouped form, to show the user once.
    pub fn expose_for_display(&self) -> &str {
        self.0.expose_for_strength_meter()
    }

    pub(crate) fn as_password(&self) -> &Password {
        &self.0
    }
}

fn checksum(data: &[u8]) -> [u8; CHECK_SYMBOLS] {
    let digest = Sha256::digest(data);
    let bits = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) >> 12;
    std::array::from_fn(|index| {
        ALPHABET[((bits >> (5 * (CHECK_SYMBOLS - 1 - index))) & 0x1f) as usize]
    })
}

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_key() -> RecoveryKey {
        RecoveryKey::from_data_symbols(b"7K3QF9XW2MABCDEFGHJKMNPQRS")
    }

    #[test]
    fn canonical_form_is_six_groups_of_five() {
        let text = fixed_key().expose_for_display().to_owned();
        assert_eq!(text.len(), 35);
        assert!(text.split('-').all(|group| group.len() == 5));
        assert_eq!(text.split('-').count(), 6);
    }

    #[test]
    fn typing_is_forgiving_about_case_spaces_and_lookalikes() {
        let canonical = fixed_key().expose_for_display().to_owned();
        let sloppy = canonical
            .to_lowercase()
            .replace('-', " ")
            .replace('1', "l")
            .replace('0', "o");
        let parsed = RecoveryKey::parse(&format!("  {sloppy} ")).unwrap();
        assert_eq!(parsed.expose_for_display(), canonical);
    }

    #[test]
    fn every_single_substitution_is_reported_as_a_typo() {
        let canonical: Vec<u8> = fixed_key()
            .expose_for_display()
            .bytes()
            .filter(|b| *b != b'-')
            .collect();
        for position in 0..canonical.len() {
            for &other in ALPHABET.iter().filter(|&&s| s != canonical[position]) {
                let mut typed = canonical.clone();
                typed[position] = other;
                let typed = String::from_utf8(typed).unwrap();
                assert!(
                    matches!(
                        RecoveryKey::parse(&typed),
                        Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Checksum))
                    ),
                    "substitution at {position} not caught"
                );
            }
        }
    }

    #[test]
    fn adjacent_transpositions_are_reported_as_typos() {
        let canonical: Vec<u8> = fixed_key()
            .expose_for_display()
            .bytes()
            .filter(|b| *b != b'-')
            .collect();
        for position in 0..canonical.len() - 1 {
            if canonical[position] == canonical[position + 1] {
                continue;
            }
            let mut typed = canonical.clone();
            typed.swap(position, position + 1);
            let typed = String::from_utf8(typed).unwrap();
            assert!(
                RecoveryKey::parse(&typed).is_err(),
                "transposition at {position} not caught"
            );
        }
    }

    #[test]
    fn wrong_length_and_characters_are_named() {
        assert!(matches!(
            RecoveryKey::parse("ABCDE-FGHJK"),
            Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Length {
                found: 10,
                expected: 30
            }))
        ));
        assert!(matches!(
            RecoveryKey::parse("ABCDU"),
            Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Character {
                position: 5,
                character: 'U'
            }))
        ));
    }

    #[test]
    fn generated_keys_parse_back_and_differ() {
        let first = RecoveryKey::generate().unwrap();
        let second = RecoveryKey::generate().unwrap();
        assert_ne!(first.expose_for_display(), second.expose_for_display());
        let parsed = RecoveryKey::parse(first.expose_for_display()).unwrap();
        assert_eq!(parsed.expose_for_display(), first.expose_for_display());
        assert!(!format!("{first:?}").contains(&first.expose_for_display()[..5]));
    }
}
