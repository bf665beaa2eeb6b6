//! Where a Safe syncs to, and the sync configuration another device joins with.
//!
//! The configuration carries the key file, so it is the one way the keys reach another device:
//! it is sealed (RNCryptor v3, password-based) under the Safe Password and never stored on the
//! target.

use std::path::{Path, PathBuf};

use arca_cryptor::{CleartextBuffer, Credentials, DevicePublicKey, Encryptor, Password, decrypt};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::s3::{S3Settings, S3Target};
use super::target::{FolderTarget, Target};
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::safe::Safe;

const FORMAT_NAME: &str = "arca-sync-config";
/// Version 2 names the devices the exporting device trusts (version 1 did not: it is refused).
const FORMAT_VERSION: u64 = 2;
/// Configurations are small; anything larger is not one.
pub const MAX_SYNC_CONFIG_LEN: usize = 1024 * 1024;

/// A sync target as the person set it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum TargetSettings {
    /// A folder: a USB stick, a NAS share, a folder a cloud client syncs.
    Folder {
        /// Its path on this device.
        path: PathBuf,
    },
    /// A bucket in S3 or an S3-compatible store (Garage, MinIO, Backblaze B2, Wasabi…).
    S3(S3Settings),
}

impl TargetSettings {
    /// The target as shown to the person: a folder's path, a bucket's address; no secret.
    pub fn describe(&self) -> String {
        match self {
            Self::Folder { path } => path.display().to_string(),
            Self::S3(settings) => settings.describe(),
        }
    }

    /// The same settings with any secret left out, to show or to send to a window.
    pub fn without_secret(&self) -> Self {
        match self {
            Self::Folder { path } => Self::Folder { path: path.clone() },
            Self::S3(settings) => Self::S3(S3Settings {
                secret_access_key: super::s3::Secret::new(String::new()),
                ..settings.clone()
            }),
        }
    }

    /// The target these settings reach.
    ///
    /// # Errors
    /// [`Error::SyncTarget`] for settings the storage library refuses.
    pub fn open(&self) -> Result<Box<dyn Target>> {
        Ok(match self {
            Self::Folder { path } => Box::new(FolderTarget::new(path)),
            Self::S3(settings) => {
                Box::new(S3Target::new(settings).map_err(|error| Error::SyncTarget {
                    target: settings.describe(),
                    error,
                })?)
            }
        })
    }
}

/// What a sync configuration tells the device that imports it (the key file aside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncConfig {
    /// The Safe's name on the device that exported it.
    pub name: String,
    /// The Safe's UUID.
    pub safe_id: Uuid,
    /// The target (shown without its secret).
    #[serde(serialize_with = "without_secret")]
    pub target: TargetSettings,
    /// When it was exported (ns since the epoch).
    pub exported_at: i64,
    /// The exporting person's note.
    pub comment: String,
}

/// The file as written: the sealed part and the one fact needed to open it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: String,
    version: u64,
    /// PBKDF2 iterations of the sealed message (the Safe's key-file count).
    iterations: u32,
    /// RNCryptor v3 password-based message holding [`Sealed`] as JSON, hex.
    sealed: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    format: String,
    version: u64,
    name: String,
    target: TargetSettings,
    exported_at: i64,
    comment: String,
    manifest: Manifest,
    /// The Safe Key File as stored (itself sealed under the Safe Password), hex.
    key_file: String,
    /// The devices the exporting device trusts: the joining device trusts them too.
    #[serde(default)]
    devices: Vec<TrustedDevice>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedDevice {
    id: Uuid,
    /// Its public key, hex; `null` for a device that synced before devices signed and has not
    /// synced since (its first published key is taken).
    key: Option<String>,
}

impl Safe {
    /// The target this copy syncs to, if one is set.
    ///
    /// # Errors
    /// [`Error::SafeLocked`], database errors.
    pub fn sync_target(&self) -> Result<Option<TargetSettings>> {
        self.reading(|open| {
            let settings: Option<String> = open
                .db()
                .query_row(
                    "SELECT settings FROM sync_target WHERE singleton = 1",
                    [],
                    |row| row.get(0),
                )
                .optional()?;
            settings
                .map(|text| {
                    serde_json::from_str(&text)
                        .map_err(|error| Error::DamagedDatabase(format!("sync target: {error}")))
                })
                .transpose()
        })
    }

    /// Sets the target this copy syncs to. A new target starts from nothing: everything this
    /// copy has is uploaded by the next run.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], [`Error::SafeLocked`], database errors.
    pub fn set_sync_target(&self, settings: &TargetSettings) -> Result<()> {
        self.writing(|open| {
            let text = serde_json::to_string(settings).map_err(|error| Error::DamagedDatabase(error.to_string()))?;
            let kind = match settings {
                TargetSettings::Folder { .. } => "folder",
                TargetSettings::S3(_) => "s3",
            };
            let transaction = open.db().unchecked_transaction()?;
            transaction.execute(
                "INSERT INTO sync_target (singleton, kind, settings) VALUES (1, ?1, ?2)
                 ON CONFLICT (singleton) DO UPDATE SET kind = excluded.kind, settings = excluded.settings, last_run = NULL",
                [kind, &text],
            )?;
            transaction.execute("DELETE FROM sync_progress", [])?;
            transaction.commit()?;
            Ok(())
        })
    }

    /// The sync configuration for another device: the target, the Safe's manifest and its key
    /// file, sealed under the Safe Password (checked first, as every security setting is).
    ///
    /// # Errors
    /// [`Error::WrongPassword`], [`Error::TryLater`]; [`Error::BadSyncConfig`] when no target
    /// is set; I/O errors reading the key file.
    pub fn export_sync_config(&self, password: &Password, comment: &str) -> Result<Vec<u8>> {
        self.check_password(password)?;
        let target = self.sync_target()?.ok_or_else(|| {
            Error::BadSyncConfig("cannot be made: choose a sync target first".to_owned())
        })?;
        let devices = self
            .trusted_devices()?
            .into_iter()
            .map(|(id, key)| TrustedDevice {
                id,
                key: key.map(|key| hex::encode(key.to_bytes())),
            })
            .collect();
        let key_file_path = self.layout().key_file();
        let key_file = std::fs::read(&key_file_path).map_err(Error::io(key_file_path))?;
        let manifest = Manifest::read(&self.layout().manifest())?;
        let sealed = Sealed {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            name: safe_name(self.layout().root()),
            target,
            exported_at: crate::time::now_ns(),
            comment: comment.to_owned(),
            key_file: hex::encode(key_file),
            manifest,
            devices,
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&sealed)
                .map_err(|error| Error::DamagedDatabase(error.to_string()))?,
        );
        let iterations = sealed.manifest.iterations();
        let mut encryptor = Encryptor::new(Credentials::Password(password, iterations), Vec::new())
            .map_err(Error::Crypto)?;
        std::io::Write::write_all(&mut encryptor, &json)
            .map_err(|error| Error::Crypto(arca_cryptor::Error::Io(error)))?;
        let envelope = Envelope {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            iterations: iterations.get(),
            sealed: hex::encode(encryptor.finish().map_err(Error::Crypto)?.0),
        };
        serde_json::to_vec_pretty(&envelope)
            .map_err(|error| Error::DamagedDatabase(error.to_string()))
    }

    /// Joins this device to a Safe: opens `config` with `password` and makes a new copy of the
    /// Safe in `path` (missing or empty) with its own device UUID, set to sync with the
    /// configuration's target (for a folder target, `target_here` if it lies elsewhere on this
    /// device). The next [`Safe::sync`] brings its contents.
    ///
    /// # Errors
    /// [`Error::BadSyncConfig`] for a damaged configuration or a wrong password (they look
    /// the same by design); [`Error::NewerFormat`]; as [`Safe::create`].
    pub fn join(
        path: &Path,
        config: &[u8],
        password: &Password,
        target_here: Option<TargetSettings>,
    ) -> Result<(Self, SyncConfig)> {
        let (sealed, info) = open_config(config, password)?;
        let key_file = Zeroizing::new(
            hex::decode(&sealed.key_file)
                .map_err(|_| Error::BadSyncConfig("holds a damaged key file".to_owned()))?,
        );
        let safe = Self::create_copy(path, sealed.manifest, &key_file, password)?;
        safe.set_sync_target(target_here.as_ref().unwrap_or(&info.target))?;
        safe.writing(|open| {
            for device in &sealed.devices {
                let key = match &device.key {
                    None => None,
                    Some(text) => {
                        let mut bytes = [0u8; 32];
                        hex::decode_to_slice(text, &mut bytes).map_err(|_| {
                            Error::BadSyncConfig("holds a damaged device key".to_owned())
                        })?;
                        Some(DevicePublicKey::from_bytes(bytes))
                    }
                };
                super::devices::add_anchor(open.db(), device.id, key)?;
            }
            Ok(())
        })?;
        Ok((safe, info))
    }

    /// The devices this copy trusts, for a sync configuration: only a device approved itself
    /// may vouch for others.
    fn trusted_devices(&self) -> Result<Vec<(Uuid, Option<DevicePublicKey>)>> {
        self.reading(|open| {
            let (me, _) = crate::changes::device_clock(open.db())?;
            let not_yet = || {
                Error::SyncDevice(
                    "this device cannot add others before it is approved itself: sync it once, and approve it on a device already syncing this Safe if it asks".to_owned(),
                )
            };
            let identity = super::devices::stored_identity(open.db(), me)?.ok_or_else(not_yet)?;
            let trust = super::devices::Trust::load(open.db(), &identity, open.id(), &[])?;
            if !super::devices::is_approved(&trust) {
                return Err(not_yet());
            }
            Ok(super::devices::approved_keys(&trust))
        })
    }
}

/// Opens a sync configuration to see what it holds (the key file stays inside).
///
/// # Errors
/// As [`Safe::join`].
pub fn read_sync_config(config: &[u8], password: &Password) -> Result<SyncConfig> {
    open_config(config, password).map(|(_, info)| info)
}

/// How a sync configuration written as text begins.
const TEXT_PREFIX: &str = "ARCA-SYNC-CONFIG:";

/// A sync configuration, as [`Safe::export_sync_config`] writes it, as one line of the
/// characters a QR code holds most densely (digits, capitals, `:` and `-`):
/// `ARCA-SYNC-CONFIG:<version>:<iterations>:<sealed, hex>`. [`Safe::join`] takes either form.
///
/// # Errors
/// [`Error::BadSyncConfig`] when `config` is not a sync configuration.
pub fn sync_config_text(config: &[u8]) -> Result<String> {
    let envelope = envelope(config)?;
    Ok(format!(
        "{TEXT_PREFIX}{}:{}:{}",
        envelope.version,
        envelope.iterations,
        envelope.sealed.to_ascii_uppercase()
    ))
}

fn envelope(config: &[u8]) -> Result<Envelope> {
    if config.len() > MAX_SYNC_CONFIG_LEN {
        return Err(Error::BadSyncConfig("is too large to be one".to_owned()));
    }
    let not_one = || Error::BadSyncConfig("is not a sync configuration".to_owned());
    let text = std::str::from_utf8(config).ok().map(str::trim);
    if let Some(rest) = text.and_then(|text| text.strip_prefix(TEXT_PREFIX)) {
        let mut fields = rest.splitn(3, ':');
        let (Some(version), Some(iterations), Some(sealed)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(not_one());
        };
        return Ok(Envelope {
            format: FORMAT_NAME.to_owned(),
            version: version.parse().map_err(|_| not_one())?,
            iterations: iterations.parse().map_err(|_| not_one())?,
            sealed: sealed.to_ascii_lowercase(),
        });
    }
    serde_json::from_slice(config).map_err(|_| not_one())
}

fn open_config(config: &[u8], password: &Password) -> Result<(Sealed, SyncConfig)> {
    let not_one = || Error::BadSyncConfig("is not a sync configuration".to_owned());
    let envelope = envelope(config)?;
    if envelope.format != FORMAT_NAME {
        return Err(not_one());
    }
    if envelope.version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            what: "the sync configuration",
            found: envelope.version,
            supported: FORMAT_VERSION,
        });
    }
    let iterations = arca_cryptor::Iterations::new(envelope.iterations)
        .filter(|count| count.get() <= arca_cryptor::Iterations::CEILING)
        .ok_or_else(|| {
            Error::BadSyncConfig(format!(
                "names {} PBKDF2 iterations; it is damaged",
                envelope.iterations
            ))
        })?;
    let sealed =
        hex::decode(&envelope.sealed).map_err(|_| Error::BadSyncConfig("is damaged".to_owned()))?;
    let json = decrypt(
        Credentials::Password(password, iterations),
        sealed.as_slice(),
        CleartextBuffer::new(),
    )
    .map_err(|_| Error::WrongSyncConfigPassword)?;
    parse(&json)
}

fn parse(json: &[u8]) -> Result<(Sealed, SyncConfig)> {
    let sealed: Sealed = serde_json::from_slice(json)
        .map_err(|error| Error::BadSyncConfig(format!("is damaged ({error})")))?;
    if sealed.format != FORMAT_NAME {
        return Err(Error::BadSyncConfig(
            "is not a sync configuration".to_owned(),
        ));
    }
    if sealed.version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            what: "the sync configuration",
            found: sealed.version,
            supported: FORMAT_VERSION,
        });
    }
    if sealed.version < FORMAT_VERSION || sealed.devices.is_empty() {
        return Err(Error::BadSyncConfig(
            "was exported by an earlier Arca, before devices approved each other: export it again on the other device".to_owned(),
        ));
    }
    let info = SyncConfig {
        name: sealed.name.clone(),
        safe_id: sealed.manifest.safe_id,
        target: sealed.target.clone(),
        exported_at: sealed.exported_at,
        comment: sealed.comment.clone(),
    };
    Ok((sealed, info))
}

fn without_secret<S: serde::Serializer>(
    target: &TargetSettings,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    target.without_secret().serialize(serializer)
}

fn safe_name(root: &Path) -> String {
    let name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".arca")
        .map(str::to_owned)
        .unwrap_or(name)
}
