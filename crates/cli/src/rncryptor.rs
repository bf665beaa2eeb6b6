//! `arca rncryptor`: single files in the RNCryptor v3 data format, readable and writable by every
//! RNCryptor implementation.
//!
//! OUT is written through [`AtomicFile`]: it appears only once complete (and, when decrypting,
//! only once the whole message has been authenticated). On any failure it does not appear, and
//! an OUT that existed before is left as it was.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use arca_cryptor::{
    AtomicFile, CipherKeys, Credentials, Encryptor, Error, Iterations, Password, Sink,
};
use clap::{ArgGroup, Args, Subcommand};
use zeroize::Zeroizing;

use crate::exit::{self, Exit, Failure};
use crate::secret_input;

/// Cleartext is read in pieces of this size (the Cryptor's own chunk size).
const READ_LEN: usize = 64 * 1024;

const EXAMPLES: &str = "\
Examples:
  arca rncryptor encrypt --password-stdin notes.txt notes.rncryptor < password-file
  printf '%s' \"$PASSWORD\" | arca rncryptor decrypt --password-stdin notes.rncryptor notes.txt
  arca rncryptor decrypt --keys-file keys.txt blob.bin blob.out
  arca rncryptor decrypt --enc-key \"$ENC_HEX\" --hmac-key \"$HMAC_HEX\" blob.bin blob.out

A keys file (or --keys-stdin) holds two lines: the AES-256 key, then the HMAC-SHA256 key, each
as 64 hex digits. Keys given on the command line are visible to other local users (e.g. in
`ps`); prefer --keys-file, --keys-stdin or --password-stdin on shared machines.";

/// The `arca rncryptor` subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Encrypt the file IN into the RNCryptor v3 message OUT.
    #[command(after_help = after_help(), override_usage = usage("encrypt"))]
    Encrypt(Options),
    /// Decrypt the RNCryptor v3 message IN into OUT. OUT appears only if IN is authentic.
    #[command(after_help = after_help(), override_usage = usage("decrypt"))]
    Decrypt(Options),
}

fn usage(command: &str) -> String {
    format!(
        "arca rncryptor {command} --password-stdin [--iterations N] [--force] IN OUT\n       \
         arca rncryptor {command} --keys-file FILE | --keys-stdin [--force] IN OUT\n       \
         arca rncryptor {command} --enc-key HEX64 --hmac-key HEX64 [--force] IN OUT"
    )
}

fn after_help() -> String {
    format!("{EXAMPLES}\n\n{}", exit::help_section())
}

/// Credentials and files, the same for both directions.
#[derive(Args)]
#[command(group(
    ArgGroup::new("credentials")
        .required(true)
        .args(["password_stdin", "enc_key", "keys_file", "keys_stdin"])
))]
pub struct Options {
    /// Read the password from standard input: all of it, minus one trailing line break ("\n" or
    /// "\r\n"). It must be UTF-8; it is used exactly as given otherwise
    #[arg(long, conflicts_with = "hmac_key")]
    password_stdin: bool,

    /// PBKDF2-HMAC-SHA1 iterations for the password (RNCryptor's standard count is 10000)
    #[arg(
        long,
        value_name = "N",
        default_value_t = Iterations::RNCRYPTOR.get(),
        value_parser = clap::value_parser!(u32).range(1..),
        conflicts_with_all = ["enc_key", "hmac_key", "keys_file", "keys_stdin"]
    )]
    iterations: u32,

    /// Read the two keys of a key-based message from this file: the AES-256 key on line 1,
    /// the HMAC-SHA256 key on line 2, each as 64 hex digits
    #[arg(long, value_name = "FILE")]
    keys_file: Option<PathBuf>,

    /// Read the two keys from standard input, as in a keys file
    #[arg(long)]
    keys_stdin: bool,

    /// The AES-256 key of a key-based message, as 64 hex digits
    #[arg(long, value_name = "HEX64", requires = "hmac_key")]
    enc_key: Option<String>,

    /// The HMAC-SHA256 key of a key-based message, as 64 hex digits
    #[arg(long, value_name = "HEX64", requires = "enc_key")]
    hmac_key: Option<String>,

    /// Replace OUT if it exists (only once the new OUT is complete and, when decrypting,
    /// authentic). Without it an existing OUT is an error
    #[arg(long)]
    force: bool,

    /// The file to read. `-` reads standard input (with keys only: the password uses it)
    #[arg(value_name = "IN")]
    input: PathBuf,

    /// The file to write. It must not be IN
    #[arg(value_name = "OUT")]
    output: PathBuf,
}

/// Runs one `arca rncryptor` subcommand.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Encrypt(options) => encrypt(Job::prepare(options, Direction::Encrypt)?),
        Command::Decrypt(options) => decrypt(Job::prepare(options, Direction::Decrypt)?),
    }
}

fn encrypt(mut job: Job) -> Result<(), Failure> {
    let output = job.create_output()?;
    let mut encryptor = match Encryptor::new(job.secret.credentials(), output) {
        Ok(encryptor) => encryptor,
        Err(error) => return Err(job.cryptor_failure(error, Direction::Encrypt)),
    };
    let mut buffer = Zeroizing::new(vec![0u8; READ_LEN]);
    loop {
        let read = match job.source.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(job.read_failure(error)),
        };
        encryptor
            .write_all(&buffer[..read])
            .map_err(|error| job.write_failure(error))?;
    }
    let (output, _tag) = encryptor
        .finish()
        .map_err(|error| job.cryptor_failure(error, Direction::Encrypt))?;
    output.commit().map_err(|error| job.write_failure(error))?;
    Ok(())
}

fn decrypt(mut job: Job) -> Result<(), Failure> {
    let output = job.create_output()?;
    let result = arca_cryptor::decrypt(job.secret.credentials(), &mut job.source, output);
    match result {
        Ok(_) => Ok(()),
        Err(error) => Err(job.cryptor_failure(error, Direction::Decrypt)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Encrypt,
    Decrypt,
}

/// The secret the credentials borrow from.
enum Secret {
    Password(Password, Iterations),
    Keys(CipherKeys),
}

impl Secret {
    fn credentials(&self) -> Credentials<'_> {
        match self {
            Self::Password(password, iterations) => Credentials::Password(password, *iterations),
            Self::Keys(keys) => Credentials::Keys(keys),
        }
    }
}

/// A checked command: the input opened, the output path free, the secret read.
struct Job {
    source: Source,
    output: PathBuf,
    secret: Secret,
}

impl Job {
    /// Checks the arguments (cheapest and usage problems first), opens IN and reads the secret.
    fn prepare(options: Options, direction: Direction) -> Result<Self, Failure> {
        let keys = match (options.enc_key, options.hmac_key) {
            (Some(encryption), Some(hmac)) => Some(CipherKeys::new(
                secret_input::encryption_key(encryption)?,
                secret_input::hmac_key(hmac)?,
            )),
            _ => match (&options.keys_file, options.keys_stdin) {
                (Some(file), _) => Some(secret_input::keys_from_file(file)?),
                (None, true) => Some(secret_input::keys_from_stdin()?),
                (None, false) => None,
            },
        };
        let iterations = Iterations::new(options.iterations).ok_or_else(|| {
            Failure::usage(
                "--iterations must be at least 1",
                "RNCryptor's standard is 10000",
            )
        })?;
        if options.output.as_os_str() == "-" {
            return Err(Failure::usage(
                "OUT must be a file path, not `-`",
                "arca writes OUT only once it is complete; write to a file, then read that",
            ));
        }
        let source = if options.input.as_os_str() == "-" {
            if keys.is_none() || options.keys_stdin {
                return Err(Failure::usage(
                    "IN cannot be `-` (standard input) with --password-stdin or --keys-stdin: \
                     the secret is read from there",
                    "give IN as a file path",
                ));
            }
            Source::stdin()
        } else {
            Source::open(&options.input)?
        };
        check_output(&source, &options.output, options.force)?;
        let secret = match keys {
            Some(keys) => Secret::Keys(keys),
            None => {
                let password = secret_input::read_password_stdin()?;
                if direction == Direction::Encrypt && password.is_empty() {
                    return Err(Failure::usage(
                        "refusing to encrypt with an empty password (RNCryptor forbids it)",
                        "pipe a non-empty password into standard input; one trailing line \
                         break is not part of it",
                    ));
                }
                Secret::Password(password, iterations)
            }
        };
        Ok(Self {
            source,
            output: options.output,
            secret,
        })
    }

    fn create_output(&self) -> Result<AtomicFile, Failure> {
        AtomicFile::create_exported(&self.output).map_err(|error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error)
                    .context(format!("cannot create {}", quoted(&self.output))),
                "check that OUT's folder exists and is writable",
            )
        })
    }

    fn read_failure(&self, error: io::Error) -> Failure {
        Failure::new(
            Exit::Io,
            anyhow::Error::new(error).context(format!("cannot read {}", self.source.name)),
            "check that IN is a readable file",
        )
    }

    fn write_failure(&self, error: io::Error) -> Failure {
        Failure::new(
            Exit::Io,
            anyhow::Error::new(error).context(format!("cannot write {}", quoted(&self.output))),
            "check that OUT's folder is writable and that the disk has space; OUT was not created",
        )
    }

    /// What a Cryptor error means for this command, naming the file it is about.
    fn cryptor_failure(&self, error: Error, direction: Direction) -> Failure {
        let input = &self.source.name;
        let malformed = |message: String| {
            Failure::new(
                Exit::Malformed,
                anyhow::Error::msg(message),
                "IN must be a complete file written by an RNCryptor v3 implementation",
            )
        };
        match error {
            Error::Io(error) if self.source.failed => self.read_failure(error),
            Error::Io(error) => self.write_failure(error),
            Error::Authentication => Failure::new(
                Exit::Authentication,
                anyhow::anyhow!(
                    "decryption failed: wrong password or key, or {input} was modified"
                ),
                match self.secret {
                    Secret::Password(..) => {
                        "check the password and --iterations (RNCryptor's standard is 10000); \
                         if both are right, IN is damaged or was tampered with"
                    }
                    Secret::Keys(_) => {
                        "check --enc-key and --hmac-key (not swapped?); if both are right, IN is \
                         damaged or was tampered with"
                    }
                },
            ),
            Error::ModeMismatch { expected, found } => Failure::new(
                Exit::Authentication,
                anyhow::anyhow!(
                    "{input} is a {found} message, but {expected} credentials were given"
                ),
                match self.secret {
                    Secret::Password(..) => "decrypt it with --enc-key and --hmac-key",
                    Secret::Keys(_) => "decrypt it with --password-stdin",
                },
            ),
            Error::UnsupportedVersion(version) => malformed(format!(
                "{input} is not an RNCryptor v3 message: its version byte is {version:#04x}, not 0x03"
            )),
            Error::UnsupportedOptions(options) => malformed(format!(
                "{input} is not a valid RNCryptor v3 message: unknown options byte {options:#04x} \
                 (0x00 is key-based, 0x01 password-based)"
            )),
            Error::Truncated => malformed(format!(
                "{input} is truncated: it ends before a complete RNCryptor v3 message"
            )),
            Error::Misaligned => malformed(format!(
                "{input} is malformed: its ciphertext is not a whole number of 16-byte blocks \
                 (truncated or extended)"
            )),
            Error::EmptyPassword => Failure::usage(
                "refusing to encrypt with an empty password (RNCryptor forbids it)",
                "pipe a non-empty password into standard input",
            ),
            other => Failure::new(
                Exit::General,
                anyhow::Error::new(other).context(match direction {
                    Direction::Encrypt => "encryption failed",
                    Direction::Decrypt => "decryption failed",
                }),
                "try again; if it keeps failing, report it",
            ),
        }
    }
}

/// IN, read in pieces; remembers whether reading failed, so that an I/O error in the middle of
/// decryption can be blamed on the right file.
struct Source {
    reader: Box<dyn Read>,
    /// How messages name it.
    name: String,
    /// The file's path (`None` for standard input), to tell whether OUT is the same file.
    path: Option<PathBuf>,
    failed: bool,
}

impl Source {
    fn stdin() -> Self {
        Self {
            reader: Box::new(io::stdin().lock()),
            name: "standard input".into(),
            path: None,
            failed: false,
        }
    }

    fn open(path: &Path) -> Result<Self, Failure> {
        let name = quoted(path);
        let unreadable = |error: io::Error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context(format!("cannot read IN {name}")),
                "check that IN exists and is readable",
            )
        };
        let file = File::open(path).map_err(unreadable)?;
        if file.metadata().map_err(unreadable)?.is_dir() {
            return Err(Failure::new(
                Exit::Io,
                anyhow::anyhow!("cannot read IN {name}: it is a folder"),
                "IN must be a file; arca rncryptor works on one file at a time",
            ));
        }
        Ok(Self {
            reader: Box::new(file),
            name,
            path: Some(path.to_path_buf()),
            failed: false,
        })
    }
}

impl Read for Source {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let result = self.reader.read(buffer);
        if let Err(error) = &result {
            self.failed |= error.kind() != io::ErrorKind::Interrupted;
        }
        result
    }
}

/// Refuses an OUT that is IN, a folder, or (without `--force`) any existing file.
fn check_output(source: &Source, output: &Path, force: bool) -> Result<(), Failure> {
    let Ok(existing) = fs::symlink_metadata(output) else {
        return Ok(());
    };
    if let Some(input) = &source.path
        && same_file(input, output)
    {
        return Err(Failure::usage(
            format!("IN and OUT are the same file ({})", quoted(output)),
            "write OUT to a new path, then replace IN with it if you want to",
        ));
    }
    if existing.is_dir() || output.is_dir() {
        return Err(Failure::usage(
            format!("OUT {} is a folder", quoted(output)),
            "give OUT as the path of the file to write, including its name",
        ));
    }
    if !force {
        return Err(Failure::usage(
            format!("OUT {} already exists", quoted(output)),
            "choose another OUT, or pass --force to replace it",
        ));
    }
    Ok(())
}

/// Whether two paths name one file, whatever the spelling (`./`, symbolic or hard links).
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether two paths name one file, whatever the spelling (`./`, symbolic links).
#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.display())
}
