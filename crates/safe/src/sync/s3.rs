//! S3 and S3-compatible object storage as sync target, through Apache OpenDAL.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use opendal::layers::{RetryLayer, TimeoutLayer};
use opendal::options::ListOptions;
use opendal::{EntryMode, Operator};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::target::Target;
use crate::error::Error;

/// Objects move in parts of this size: S3's multipart minimum is 5 MiB, and a part is what a
/// retry repeats.
const PART_LEN: usize = 8 * 1024 * 1024;
/// Parts of one object in flight at once, as `aws s3` does.
const PARTS_AT_ONCE: usize = 4;

/// Where a bucket is and how to sign in to it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Settings {
    /// The service's address, e.g. `https://s3.eu-central-1.amazonaws.com` or
    /// `http://127.0.0.1:3900`.
    pub endpoint: String,
    /// The region (`garage` for Garage; any value most other stores accept).
    pub region: String,
    /// The bucket.
    pub bucket: String,
    /// A folder inside the bucket for this Safe (empty for the whole bucket).
    #[serde(default)]
    pub prefix: String,
    /// The access key's id.
    pub access_key_id: String,
    /// The access key's secret: stored only in the Safe's encrypted database and in sealed
    /// sync configurations, never shown.
    pub secret_access_key: Secret,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// A credential: zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The secret itself, for the one place that must send it (a request's signature, a
    /// peer's configuration in a benchmark).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

impl S3Settings {
    /// Settings as a person typed them, each field checked (surrounding spaces dropped; the
    /// folder inside the bucket without its outer slashes). The secret is checked by
    /// [`Secret::checked`].
    ///
    /// # Errors
    /// [`Error::BadS3Settings`], naming the field and what is wrong with it.
    pub fn checked(
        endpoint: &str,
        region: &str,
        bucket: &str,
        prefix: &str,
        access_key_id: &str,
        secret_access_key: Secret,
    ) -> Result<Self, Error> {
        Ok(Self {
            endpoint: checked_endpoint(endpoint)?,
            region: checked_region(region)?,
            bucket: checked_bucket(bucket)?,
            prefix: checked_prefix(prefix)?,
            access_key_id: checked_access_key_id(access_key_id)?,
            secret_access_key,
        })
    }

    /// A bucket name as S3 has them: 3 to 63 lower-case letters, digits, dots and hyphens.
    ///
    /// # Errors
    /// [`Error::BadS3Settings`] saying what is wrong with it.
    pub fn checked_bucket(text: &str) -> Result<String, Error> {
        checked_bucket(text)
    }

    /// The target as shown to the person: no credential in it.
    pub fn describe(&self) -> String {
        let prefix = self.prefix.trim_matches('/');
        let path = if prefix.is_empty() {
            String::new()
        } else {
            format!("/{prefix}")
        };
        format!("s3://{}{path} at {}", self.bucket, self.endpoint)
    }
}

/// Region names are short words of letters, digits, hyphens (`us-east-1`, `garage`, `auto`).
const MAX_REGION_CHARS: usize = 64;
const MAX_ENDPOINT_CHARS: usize = 2048;
const MAX_PREFIX_BYTES: usize = 512;
const MAX_KEY_ID_CHARS: usize = 128;
const MAX_SECRET_CHARS: usize = 512;

fn has_space_or_control(text: &str) -> bool {
    text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An `http://` or `https://` address with a host, without a trailing `/`.
fn checked_endpoint(text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::BadS3Settings(
            "the endpoint URL is empty: give the address of the S3 service, e.g. \
             https://s3.eu-central-1.amazonaws.com or http://nas.local:3900"
                .to_owned(),
        ));
    }
    if text.chars().count() > MAX_ENDPOINT_CHARS {
        return Err(Error::BadS3Settings(format!(
            "the endpoint URL is longer than {MAX_ENDPOINT_CHARS} characters"
        )));
    }
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let (scheme, rest) = (scheme.to_ascii_lowercase(), rest.trim_end_matches('/'));
    if scheme != "http" && scheme != "https" {
        return Err(Error::BadS3Settings(format!(
            "the endpoint URL {text:?} is not an http:// or https:// address; give it with its \
             scheme, e.g. https://{}",
            rest.trim_start_matches('/')
        )));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.contains('@') {
        // Not repeated: what comes before "@" may be a password.
        return Err(Error::BadS3Settings(
            "the endpoint URL holds a user name or password before “@”: give the address \
             alone, and the access key in its own fields"
                .to_owned(),
        ));
    }
    if host.is_empty() || host.starts_with(':') {
        return Err(Error::BadS3Settings(format!(
            "the endpoint URL {text:?} has no host name after {scheme}://"
        )));
    }
    if has_space_or_control(rest) {
        return Err(Error::BadS3Settings(format!(
            "the endpoint URL {text:?} holds a space or a control character"
        )));
    }
    Ok(format!("{scheme}://{rest}"))
}

fn checked_region(text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::BadS3Settings(
            "the region is empty: us-east-1 for Amazon S3 (or the bucket's own region), garage \
             for Garage"
                .to_owned(),
        ));
    }
    if text.chars().count() > MAX_REGION_CHARS
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Error::BadS3Settings(format!(
            "the region {text:?} is not a region name: letters, digits and hyphens, e.g. \
             us-east-1 or garage"
        )));
    }
    Ok(text.to_owned())
}

fn checked_bucket(text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::BadS3Settings("the bucket name is empty".to_owned()));
    }
    let valid = (3..=63).contains(&text.len())
        && text.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || b".-".contains(&byte)
        });
    if !valid {
        return Err(Error::BadS3Settings(format!(
            "{text:?} is not a bucket name: bucket names are 3 to 63 lower-case letters, digits, \
             dots and hyphens"
        )));
    }
    Ok(text.to_owned())
}

/// A folder inside the bucket: `/`-separated parts, none empty, `.` or `..`; empty for none.
fn checked_prefix(text: &str) -> Result<String, Error> {
    let text = text.trim().trim_matches('/');
    if text.is_empty() {
        return Ok(String::new());
    }
    if text.len() > MAX_PREFIX_BYTES {
        return Err(Error::BadS3Settings(format!(
            "the folder inside the bucket is longer than {MAX_PREFIX_BYTES} bytes"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::BadS3Settings(format!(
            "the folder inside the bucket {text:?} holds a control character"
        )));
    }
    if text
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(Error::BadS3Settings(format!(
            "the folder inside the bucket {text:?} has an empty, “.” or “..” part; give names \
             separated by single slashes, e.g. arca/holiday"
        )));
    }
    Ok(text.to_owned())
}

fn checked_access_key_id(text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::BadS3Settings(
            "the access key ID is empty: give the ID of the key that may read and write the bucket"
                .to_owned(),
        ));
    }
    if text.chars().count() > MAX_KEY_ID_CHARS || has_space_or_control(text) {
        return Err(Error::BadS3Settings(format!(
            "the access key ID {text:?} is not one: a single word of at most \
             {MAX_KEY_ID_CHARS} characters"
        )));
    }
    Ok(text.to_owned())
}

impl Secret {
    /// A secret access key as a person typed or pasted it, checked (surrounding spaces dropped).
    ///
    /// # Errors
    /// [`Error::BadS3Settings`], saying what is wrong, never what it holds.
    pub fn checked(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::BadS3Settings(
                "the secret access key is empty: type the secret that belongs to the access key ID"
                    .to_owned(),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(Error::BadS3Settings(
            "the secret access key holds a line break or another control character; paste only \
             the secret itself"
                .to_owned(),
        ));
        }
        if text.chars().count() > MAX_SECRET_CHARS {
            return Err(Error::BadS3Settings(format!(
                "the secret access key is longer than {MAX_SECRET_CHARS} characters; no service uses \
             secrets that long"
            )));
        }
        Ok(Self::new(text.to_owned()))
    }
}

/// A bucket (or a folder in one) as sync target.
pub struct S3Target {
    operator: Operator,
    runtime: tokio::runtime::Runtime,
    describe: String,
}

impl S3Target {
    /// Reaches the bucket `settings` name (nothing is sent until the first operation).
    ///
    /// # Errors
    /// Settings the storage library refuses (an endpoint that is not a URL, no bucket), or no
    /// thread for its runtime.
    pub fn new(settings: &S3Settings) -> io::Result<Self> {
        opendal::install_default();
        let prefix = settings.prefix.trim_matches('/');
        let root = if prefix.is_empty() {
            "/".to_owned()
        } else {
            format!("/{prefix}/")
        };
        let builder = opendal::services::S3::default()
            .root(&root)
            .bucket(&settings.bucket)
            .endpoint(&settings.endpoint)
            .region(&settings.region)
            .access_key_id(&settings.access_key_id)
            .secret_access_key(&settings.secret_access_key.0)
            // Only what the person set: no credentials from the environment or the cloud
            // instance's metadata service.
            .disable_config_load()
            .disable_ec2_metadata();
        let operator = Operator::new(builder)
            .map_err(to_io)?
            .layer(TimeoutLayer::new())
            .layer(RetryLayer::new());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(Self {
            operator,
            runtime,
            describe: settings.describe(),
        })
    }
}

fn to_io(error: opendal::Error) -> io::Error {
    let kind = match error.kind() {
        opendal::ErrorKind::NotFound => io::ErrorKind::NotFound,
        opendal::ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
        opendal::ErrorKind::ConfigInvalid => io::ErrorKind::InvalidInput,
        opendal::ErrorKind::RateLimited => io::ErrorKind::ResourceBusy,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, error.to_string())
}

impl Target for S3Target {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        let options = ListOptions {
            recursive: true,
            ..ListOptions::default()
        };
        let entries = match self
            .runtime
            .block_on(self.operator.list_options(prefix, options))
        {
            Ok(entries) => entries,
            Err(error) if error.kind() == opendal::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(to_io(error)),
        };
        Ok(entries
            .into_iter()
            .filter(|entry| entry.metadata().mode() == EntryMode::FILE)
            .map(|entry| entry.path().trim_start_matches('/').to_owned())
            .collect())
    }

    fn get(&self, name: &str, limit: u64) -> io::Result<Vec<u8>> {
        let length = self
            .runtime
            .block_on(self.operator.stat(name))
            .map_err(to_io)?
            .content_length();
        if length > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name} is larger than {limit} bytes"),
            ));
        }
        Ok(self
            .runtime
            .block_on(self.operator.read(name))
            .map_err(to_io)?
            .to_vec())
    }

    fn put(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.runtime
            .block_on(self.operator.write(name, bytes.to_vec()))
            .map(drop)
            .map_err(to_io)
    }

    fn put_file(&self, name: &str, from: &Path) -> io::Result<()> {
        let mut source = File::open(from)?;
        self.runtime.block_on(async {
            let mut writer = self
                .operator
                .writer_with(name)
                .chunk(PART_LEN)
                .concurrent(PARTS_AT_ONCE)
                .await
                .map_err(to_io)?;
            loop {
                let mut part = vec![0u8; PART_LEN];
                let mut filled = 0;
                while filled < PART_LEN {
                    match source.read(&mut part[filled..]) {
                        Ok(0) => break,
                        Ok(read) => filled += read,
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        Err(error) => {
                            let _ = writer.abort().await;
                            return Err(error);
                        }
                    }
                }
                if filled == 0 {
                    break;
                }
                part.truncate(filled);
                writer.write(part).await.map_err(to_io)?;
                if filled < PART_LEN {
                    break;
                }
            }
            writer.close().await.map(drop).map_err(to_io)
        })
    }

    fn get_into(&self, name: &str, into: &mut dyn Write) -> io::Result<u64> {
        self.runtime.block_on(async {
            let length = self
                .operator
                .stat(name)
                .await
                .map_err(to_io)?
                .content_length();
            let reader = self
                .operator
                .reader_with(name)
                .chunk(PART_LEN)
                .concurrent(PARTS_AT_ONCE)
                .await
                .map_err(to_io)?;
            let window = (PART_LEN * PARTS_AT_ONCE) as u64;
            let mut start = 0;
            while start < length {
                let end = (start + window).min(length);
                for chunk in reader.read(start..end).await.map_err(to_io)? {
                    into.write_all(&chunk)?;
                }
                start = end;
            }
            Ok(length)
        })
    }

    fn delete(&self, name: &str) -> io::Result<()> {
        match self.runtime.block_on(self.operator.delete(name)) {
            Err(error) if error.kind() != opendal::ErrorKind::NotFound => Err(to_io(error)),
            _ => Ok(()),
        }
    }

    /// Eight objects of up to four parts each: about what `aws s3 sync` keeps in flight (its
    /// first sync of 64 files of 16 MiB to Garage took 1.5 times as long with four).
    fn transfers(&self) -> usize {
        8
    }
}
