//! 32-byte digests (HMAC tags, SHA-256 hashes) as hex strings in JSON (the change log, `--json`),
//! while the database stores their bytes.

use serde::{Deserialize, Deserializer, Serializer};

fn parse<'de, D: Deserializer<'de>>(text: &str) -> Result<[u8; 32], D::Error> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).map_err(serde::de::Error::custom)?;
    Ok(bytes)
}

/// `Option<[u8; 32]>` as a hex string or `null`.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<[u8; 32]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_str(&hex::encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<[u8; 32]>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| parse::<D>(&text))
            .transpose()
    }
}

/// `Option<Option<[u8; 32]>>` of an update: absent (skipped), `null` (cleared) or hex.
pub(crate) mod nested {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Option<[u8; 32]>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => option::serialize(inner, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<[u8; 32]>>, D::Error> {
        option::deserialize(deserializer).map(Some)
    }
}

/// `[u8; 32]` as a hex string.
pub(crate) fn serialize<S: Serializer>(value: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(value))
}

/// `[u8; 32]` from a hex string.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<[u8; 32], D::Error> {
    parse::<D>(&String::deserialize(deserializer)?)
}
