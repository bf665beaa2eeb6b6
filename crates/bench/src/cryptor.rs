//! `arca-bench cryptor`: the streaming Encryptor and Decryptor against the raw AES-256-CBC +
//! HMAC-SHA256 they are built on (the same crates, on the same buffer, in the same process), and
//! a key-file unlock against one PBKDF2 derivation by OpenSSL.

use std::io::{self, Write};
use std::time::Duration;

use aes::Aes256;
use anyhow::{Context, ensure};
use arca_cryptor::{
    CipherKeys, Credentials, Decryptor, EncryptionKey, Encryptor, HmacKey, Iterations, Password,
    SafeKeys, Sink, encrypt_pipelined, hazmat,
};
use cbc::cipher::{Array, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use openssl::hash::MessageDigest;
use sha2::Sha256;

use crate::measure::{Verdict, best_of, fill_pseudo_random, line, mb_per_s};

/// Encrypt must reach this fraction of the raw encrypt + HMAC limit.
const ENCRYPT_TARGET: f64 = 0.90;
/// An unlock may take at most this multiple of one OpenSSL derivation.
const UNLOCK_TARGET: f64 = 1.15;
/// The Cryptor's chunk size, and the size of every write and read here.
const CHUNK: usize = 64 * 1024;
const MIB: usize = 1024 * 1024;

const ENC_KEY: [u8; 32] = [0x11; 32];
const HMAC_KEY: [u8; 32] = [0x22; 32];
const IV: [u8; 16] = [0x33; 16];

/// Options of `arca-bench cryptor`.
#[derive(clap::Args)]
pub struct Options {
    /// Size of the buffer pushed through each measurement, in MiB
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=4096))]
    size_mib: u32,
    /// Timed runs per figure (the best is kept), after one warm-up run
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// PBKDF2 iterations of the key-derivation figures (Arca's key files use 1,000,000)
    #[arg(long, default_value_t = Iterations::KEY_FILE.get(), value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
}

/// Runs the Cryptor benchmark and prints its figures.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let size = options.size_mib as usize * MIB;
    let runs = options.runs;
    println!(
        "arca-bench cryptor: {} MiB in {} KiB chunks, best of {runs} runs after a warm-up \
         (MB = 10^6 bytes)",
        options.size_mib,
        CHUNK / 1024
    );
    println!("  cpu: {}", cpu_description());
    println!();

    let mut buffer = vec![0u8; size];
    fill_pseudo_random(&mut buffer);

    println!("Limits: aes 0.9 + cbc 0.2, hmac 0.13 + sha2 0.11 directly, in place, one thread");
    let cbc_encrypt = best_of(runs, || Ok(raw_cbc_encrypt(&mut buffer)))?;
    line("AES-256-CBC encrypt", rate(size, cbc_encrypt));
    let cbc_decrypt = best_of(runs, || Ok(raw_cbc_decrypt(&mut buffer)))?;
    line("AES-256-CBC decrypt", rate(size, cbc_decrypt));
    let hmac = best_of(runs, || Ok(raw_hmac(&buffer)))?;
    line("HMAC-SHA256", rate(size, hmac));
    let encrypt_limit = best_of(runs, || Ok(raw_encrypt_then_hmac(&mut buffer)))?;
    line(
        "limit: encrypt then HMAC, per chunk",
        rate(size, encrypt_limit),
    );
    let decrypt_limit = best_of(runs, || Ok(raw_hmac_then_decrypt(&mut buffer)))?;
    line(
        "limit: HMAC then decrypt, per chunk",
        rate(size, decrypt_limit),
    );
    println!();

    let keys = CipherKeys::new(
        EncryptionKey::from_slice(&ENC_KEY)?,
        HmacKey::from_slice(&HMAC_KEY)?,
    );
    let credentials = Credentials::Keys(&keys);
    let encrypt_limit_rate = mb_per_s(size, encrypt_limit);
    let decrypt_limit_rate = mb_per_s(size, decrypt_limit);

    println!(
        "Arca streaming, key mode, {} KiB writes and updates",
        CHUNK / 1024
    );
    let to_sink = best_of(runs, || encrypt_stream(credentials, &buffer, io::sink()))?;
    let ratio = mb_per_s(size, to_sink) / encrypt_limit_rate;
    line(
        "Encryptor -> io::sink()",
        format!(
            "{}   {ratio:.2} x limit   target >= {ENCRYPT_TARGET:.2}   {}",
            rate(size, to_sink),
            Verdict::at_least(ratio, ENCRYPT_TARGET)
        ),
    );
    let mut message = Vec::with_capacity(size + 1024);
    let to_vec = best_of(runs, || {
        message.clear();
        encrypt_stream(credentials, &buffer, &mut message)
    })?;
    line(
        "Encryptor -> preallocated Vec",
        format!(
            "{}   {:.2} x limit",
            rate(size, to_vec),
            mb_per_s(size, to_vec) / encrypt_limit_rate
        ),
    );
    let pipelined = best_of(runs, || {
        let sealed = encrypt_pipelined(credentials, &mut &buffer[..], io::sink())?;
        ensure!(
            sealed.cleartext_len == size as u64,
            "sealed {} bytes",
            sealed.cleartext_len
        );
        Ok(())
    })?;
    line(
        "encrypt_pipelined (two threads) -> io::sink()",
        format!(
            "{}   {:.2} x one core's AES-256-CBC encrypt   (import of one big file, before its I/O)",
            rate(size, pipelined),
            mb_per_s(size, pipelined) / mb_per_s(size, cbc_encrypt)
        ),
    );
    let decrypt = best_of(runs, || {
        let released = decrypt_stream(credentials, &message)?;
        ensure!(released == size, "released {released} bytes of {size}");
        Ok(released)
    })?;
    let decrypt_rate = mb_per_s(size, decrypt);
    line(
        "Decryptor -> counting sink",
        format!(
            "{}   {:.2} x decrypt limit   {:.2} x encrypt limit   (no target)",
            rate(size, decrypt),
            decrypt_rate / decrypt_limit_rate,
            decrypt_rate / encrypt_limit_rate,
        ),
    );
    drop(message);
    println!();

    key_derivation(options.iterations, runs)
}

/// One core's AES-256-CBC encrypt rate and HMAC-SHA256 rate on a 256 MiB buffer, in MB/s: the
/// ceilings of importing one file (CBC encryption is serial; everything else can run beside
/// it) and of exporting it (the HMAC is one serial pass; CBC decryption is not).
pub fn single_core_limits_mb_s() -> anyhow::Result<(f64, f64)> {
    let size = 256 * MIB;
    let mut buffer = vec![0u8; size];
    fill_pseudo_random(&mut buffer);
    let encrypt = best_of(3, || Ok(raw_cbc_encrypt(&mut buffer)))?;
    let hmac = best_of(3, || Ok(raw_hmac(&buffer)))?;
    Ok((mb_per_s(size, encrypt), mb_per_s(size, hmac)))
}

/// The rate of encrypting a 256 MiB buffer on one thread while a second one HMACs what it
/// encrypted, in MB/s: the two serial passes every RNCryptor message needs, on two cores, with
/// no reading, writing or content hash. Where HMAC is no faster than AES, the two fill two
/// cores and this, not one core's AES, is what one file's import can approach.
pub fn two_thread_seal_ceiling_mb_s() -> anyhow::Result<f64> {
    let size = 256 * MIB;
    let mut buffer = vec![0u8; size];
    fill_pseudo_random(&mut buffer);
    let time = best_of(3, || raw_encrypt_beside_hmac(&mut buffer))?;
    Ok(mb_per_s(size, time))
}

fn key_derivation(iterations: u32, runs: u32) -> anyhow::Result<()> {
    let count = Iterations::new(iterations).context("iterations must be at least 1")?;
    println!("Key derivation: PBKDF2-HMAC-SHA1, {iterations} iterations, 32-byte key");
    let salt = [0x44u8; 8];
    let arca = best_of(runs, || {
        let mut key = [0u8; 32];
        hazmat::pbkdf2_sha1(b"correct horse battery staple", &salt, iterations, &mut key);
        Ok(key)
    })?;
    line("one derivation, Arca (hazmat::pbkdf2_sha1)", seconds(arca));
    let openssl_time = best_of(runs, || {
        let mut key = [0u8; 32];
        openssl::pkcs5::pbkdf2_hmac(
            b"correct horse battery staple",
            &salt,
            iterations as usize,
            MessageDigest::sha1(),
            &mut key,
        )?;
        Ok(key)
    })?;
    line(
        &format!("one derivation, {}", openssl::version::version()),
        format!(
            "{}   Arca is {:.2} x OpenSSL's time",
            seconds(openssl_time),
            ratio(arca, openssl_time)
        ),
    );
    let password = Password::new("correct horse battery staple".into());
    let safe_id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let key_file = SafeKeys::generate(safe_id)?.seal_key_file(&password, count)?;
    let unlock = best_of(runs, || {
        let keys = SafeKeys::open_key_file(&key_file, &password, count)?;
        ensure!(keys.safe_id() == safe_id, "unlocked the wrong Safe");
        Ok(keys)
    })?;
    let unlock_ratio = ratio(unlock, openssl_time);
    line(
        "key-file unlock (SafeKeys::open_key_file)",
        format!(
            "{}   {unlock_ratio:.2} x one OpenSSL derivation   target <= {UNLOCK_TARGET:.2}   {}",
            seconds(unlock),
            Verdict::at_most(unlock_ratio, UNLOCK_TARGET)
        ),
    );
    Ok(())
}

// ---- Arca's streaming API ---------------------------------------------------------------------

fn encrypt_stream<W: Write>(
    credentials: Credentials<'_>,
    cleartext: &[u8],
    writer: W,
) -> anyhow::Result<()> {
    let mut encryptor = Encryptor::new(credentials, writer)?;
    for chunk in cleartext.chunks(CHUNK) {
        encryptor.write_all(chunk)?;
    }
    encryptor.finish()?;
    Ok(())
}

fn decrypt_stream(credentials: Credentials<'_>, message: &[u8]) -> anyhow::Result<usize> {
    let mut decryptor = Decryptor::new(credentials, CountingSink::default());
    for chunk in message.chunks(CHUNK) {
        decryptor.update(chunk)?;
    }
    Ok(decryptor.finish()?)
}

/// A sink that discards the cleartext and reports how much it was given.
#[derive(Default)]
struct CountingSink(usize);

impl Write for CountingSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0 += data.len();
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for CountingSink {
    type Output = usize;

    fn commit(self) -> io::Result<usize> {
        Ok(self.0)
    }
}

// ---- the limits: the raw crates ---------------------------------------------------------------

fn cbc_encryptor() -> cbc::Encryptor<Aes256> {
    cbc::Encryptor::new(&ENC_KEY.into(), &IV.into())
}

fn cbc_decryptor() -> cbc::Decryptor<Aes256> {
    cbc::Decryptor::new(&ENC_KEY.into(), &IV.into())
}

fn mac() -> Hmac<Sha256> {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(&HMAC_KEY) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// Returns the last byte, so the work has a result.
fn raw_cbc_encrypt(buffer: &mut [u8]) -> Option<u8> {
    let mut cbc = cbc_encryptor();
    for chunk in buffer.chunks_mut(CHUNK) {
        cbc.encrypt_blocks(Array::slice_as_chunks_mut(chunk).0);
    }
    buffer.last().copied()
}

/// Returns the last byte, so the work has a result.
fn raw_cbc_decrypt(buffer: &mut [u8]) -> Option<u8> {
    let mut cbc = cbc_decryptor();
    for chunk in buffer.chunks_mut(CHUNK) {
        cbc.decrypt_blocks(Array::slice_as_chunks_mut(chunk).0);
    }
    buffer.last().copied()
}

fn raw_hmac(buffer: &[u8]) -> [u8; 32] {
    let mut mac = mac();
    for chunk in buffer.chunks(CHUNK) {
        mac.update(chunk);
    }
    mac.finalize().into_bytes().into()
}

/// What encrypting a message costs at least: each chunk encrypted in place, then HMACed.
fn raw_encrypt_then_hmac(buffer: &mut [u8]) -> [u8; 32] {
    let mut cbc = cbc_encryptor();
    let mut mac = mac();
    for chunk in buffer.chunks_mut(CHUNK) {
        cbc.encrypt_blocks(Array::slice_as_chunks_mut(chunk).0);
        mac.update(chunk);
    }
    mac.finalize().into_bytes().into()
}

/// What decrypting a message costs at least: each chunk HMACed, then decrypted in place.
fn raw_hmac_then_decrypt(buffer: &mut [u8]) -> [u8; 32] {
    let mut cbc = cbc_decryptor();
    let mut mac = mac();
    for chunk in buffer.chunks_mut(CHUNK) {
        mac.update(chunk);
        cbc.decrypt_blocks(Array::slice_as_chunks_mut(chunk).0);
    }
    mac.finalize().into_bytes().into()
}

fn raw_encrypt_beside_hmac(buffer: &mut [u8]) -> anyhow::Result<[u8; 32]> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<&[u8]>(4);
    std::thread::scope(|scope| {
        let authenticating = scope.spawn(move || {
            let mut mac = mac();
            for chunk in receiver {
                mac.update(chunk);
            }
            <[u8; 32]>::from(mac.finalize().into_bytes())
        });
        let mut cbc = cbc_encryptor();
        for chunk in buffer.chunks_mut(CHUNK) {
            cbc.encrypt_blocks(Array::slice_as_chunks_mut(chunk).0);
            if sender.send(chunk).is_err() {
                break;
            }
        }
        drop(sender);
        authenticating
            .join()
            .map_err(|_| anyhow::anyhow!("the HMAC thread panicked"))
    })
}

// ---- helpers ----------------------------------------------------------------------------------

fn cpu_description() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown model".into());
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    format!("{model}, {threads} hardware threads")
}

fn rate(bytes: usize, time: Duration) -> String {
    format!("{:>8.1} MB/s", mb_per_s(bytes, time))
}

fn seconds(time: Duration) -> String {
    format!("{:>8.3} s", time.as_secs_f64())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
