//! A bucket as sync target, as the window sets it up: the settings checked (each thing missing
//! or malformed said by name), the stored secret kept when it is not typed again, and the bucket
//! tried before anything is stored (a wrong address, a refused key, no such bucket). The secret
//! never appears in a message: the service's own words are passed on with it taken out.

use std::io;
use std::sync::mpsc;
use std::time::Duration;

use arca_safe::{S3Settings, Secret, TargetSettings};
use uuid::Uuid;

use crate::dto::{AppError, BucketTarget, ErrorKind};

/// How long the check waits for the service (the storage library retries a few times by
/// itself before it gives up on an address that does not answer).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// The object every sync target holds at its root once a Safe has synced with it; it names the
/// Safe (the library writes it at the first run and refuses a target that names another).
const MARKER: &str = "arca-sync.json";
/// A marker is one line of JSON; the library reads no more of it either.
const MARKER_MAX_LEN: u64 = 4096;
/// The object written and removed again to see that the key may write to the bucket.
const PROBE: &str = "arca-sync-check-";
/// The service's own words, cut to this many characters.
const MAX_DETAIL_CHARS: usize = 600;

/// The settings the window's form stands for, checked ([`S3Settings::checked`]). `stored`: the
/// Safe's target now, whose secret is kept when none was typed, if the endpoint and the access
/// key ID are the same.
///
/// # Errors
/// [`ErrorKind::InvalidInput`], naming the field and what is wrong with it (never the secret).
pub fn settings(
    input: BucketTarget,
    stored: Option<&TargetSettings>,
) -> Result<S3Settings, AppError> {
    let typed = input
        .secret_access_key
        .filter(|secret| !secret.expose().trim().is_empty());
    let kept = match (&typed, stored) {
        (None, Some(TargetSettings::S3(stored))) => Some(stored),
        _ => None,
    };
    let secret = typed
        .as_ref()
        .or(kept.map(|stored| &stored.secret_access_key))
        .map_or("", Secret::expose);
    let settings = S3Settings::checked(
        &input.endpoint,
        &input.region,
        &input.bucket,
        &input.prefix,
        &input.access_key_id,
        Secret::new(String::new()),
    )?;
    // Each field is said before the secret.
    let settings = S3Settings {
        secret_access_key: Secret::checked(secret)?,
        ..settings
    };
    if let Some(stored) = kept
        && (stored.endpoint != settings.endpoint || stored.access_key_id != settings.access_key_id)
    {
        return Err(AppError::invalid(
            "type the secret access key: the stored one is kept only while the endpoint and \
             the access key ID stay the same",
        ));
    }
    Ok(settings)
}

/// Tries the bucket with `settings` for the Safe `safe`: the service answers, the key may read
/// and write the bucket (a small object is written there and removed), and the bucket is not
/// the sync target of another Safe. Gives up after [`CHECK_TIMEOUT`].
///
/// # Errors
/// [`ErrorKind::BucketUnreachable`], [`ErrorKind::BucketAccessDenied`],
/// [`ErrorKind::BucketNotFound`], [`ErrorKind::ForeignTarget`]; [`ErrorKind::InvalidInput`] for
/// settings the storage library refuses.
pub fn check(settings: &S3Settings, safe: Uuid) -> Result<(), AppError> {
    let (send, receive) = mpsc::channel();
    let tried = settings.clone();
    std::thread::Builder::new()
        .name("arca-bucket-check".into())
        .spawn(move || {
            // The window may have given up waiting: nobody to tell then.
            let _ = send.send(try_bucket(&tried, safe));
        })
        .map_err(|error| {
            AppError::new(
                ErrorKind::Internal,
                format!("cannot start the bucket check: {error}"),
            )
        })?;
    receive.recv_timeout(CHECK_TIMEOUT).unwrap_or_else(|_| {
        Err(AppError::new(
            ErrorKind::BucketUnreachable,
            format!(
                "no answer from the S3 service at {} within {} seconds: check the endpoint \
                 address (http or https, host and port) and the network",
                settings.endpoint,
                CHECK_TIMEOUT.as_secs()
            ),
        ))
    })
}

fn try_bucket(settings: &S3Settings, safe: Uuid) -> Result<(), AppError> {
    let target = match TargetSettings::S3(settings.clone()).open() {
        Ok(target) => target,
        Err(arca_safe::Error::SyncTarget { error, .. }) => return Err(problem(settings, &error)),
        Err(error) => return Err(AppError::from(error)),
    };
    match target.get(MARKER, MARKER_MAX_LEN) {
        Ok(bytes) => {
            if let Some(owner) = owner(&bytes)
                && owner != safe
            {
                return Err(AppError::from(arca_safe::Error::ForeignSyncTarget {
                    target: settings.describe(),
                    safe: owner,
                }));
            }
        }
        // No Safe synced here yet, or no such bucket: the write below tells which.
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(problem(settings, &error)),
    }
    let probe = format!("{PROBE}{}", Uuid::new_v4());
    target
        .put(&probe, b"arca")
        .map_err(|error| problem(settings, &error))?;
    target
        .delete(&probe)
        .map_err(|error| problem(settings, &error))
}

/// The Safe a marker names; `None` for one the library will refuse in its own words.
fn owner(bytes: &[u8]) -> Option<Uuid> {
    let marker: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    marker.get("safe")?.as_str()?.parse().ok()
}

/// What went wrong with the bucket, in the person's terms, with the service's words after it.
fn problem(settings: &S3Settings, error: &io::Error) -> AppError {
    let full = error.to_string();
    let detail = detail(&full, &settings.secret_access_key);
    let (endpoint, bucket, key) = (
        &settings.endpoint,
        &settings.bucket,
        &settings.access_key_id,
    );
    // The storage library files some of S3's answers under other kinds (a missing bucket as
    // a configuration error): S3's own error code says what happened.
    let code = |codes: &[&str]| codes.iter().any(|code| full.contains(code));
    let kind = if code(&["NoSuchBucket"]) {
        io::ErrorKind::NotFound
    } else if code(&[
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "InvalidToken",
        "ExpiredToken",
    ]) {
        io::ErrorKind::PermissionDenied
    } else {
        error.kind()
    };
    match kind {
        io::ErrorKind::NotFound => AppError::new(
            ErrorKind::BucketNotFound,
            format!(
                "there is no bucket {bucket:?} at {endpoint} (or the access key {key} does not \
                 see it): {detail}"
            ),
        ),
        io::ErrorKind::PermissionDenied => AppError::new(
            ErrorKind::BucketAccessDenied,
            format!(
                "{endpoint} refused the access key {key} for the bucket {bucket:?}: check the \
                 access key ID and its secret, and that the key may read and write the bucket \
                 ({detail})"
            ),
        ),
        io::ErrorKind::InvalidInput => {
            AppError::invalid(format!("the bucket's settings are not accepted: {detail}"))
        }
        _ => AppError::new(
            ErrorKind::BucketUnreachable,
            format!(
                "the S3 service at {endpoint} could not be used: check the endpoint address \
                 (http or https, host and port), the region and the network ({detail})"
            ),
        ),
    }
}

/// The gist of the storage library's error: S3's error code and message where the service
/// sent them, else the HTTP status it answered with, else what failed (a connection).
fn gist(text: &str) -> String {
    let quoted = |after: &str| {
        let start = text.find(after)? + after.len();
        let end = text[start..].find('"')? + start;
        Some(&text[start..end])
    };
    if let Some(code) = quoted("code: \"") {
        return match quoted("message: \"") {
            Some(message) if !message.is_empty() => format!("{code}: {message}"),
            _ => code.to_owned(),
        };
    }
    if let Some(start) = text.find("status: ") {
        let status: String = text[start + 8..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !status.is_empty() {
            return format!("the service answered with HTTP status {status}");
        }
    }
    match text.rsplit_once(" => ") {
        Some((_, cause)) => cause.to_owned(),
        None => text.to_owned(),
    }
}

/// The service's words in short, without the secret.
fn detail(text: &str, secret: &Secret) -> String {
    let secret = secret.expose();
    let text = if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[secret]")
    };
    let text = gist(&text);
    match text.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(secret: Option<&str>) -> BucketTarget {
        BucketTarget {
            endpoint: " https://s3.eu-central-1.amazonaws.com/ ".to_owned(),
            region: "eu-central-1".to_owned(),
            bucket: "holiday-photos".to_owned(),
            prefix: "/arca/holiday/".to_owned(),
            access_key_id: "AKIAEXAMPLE".to_owned(),
            secret_access_key: secret.map(|secret| Secret::new(secret.to_owned())),
        }
    }

    fn refused(input: BucketTarget) -> String {
        match settings(input, None) {
            Ok(settings) => format!("accepted: {settings:?}"),
            Err(error) => {
                assert_eq!(error.kind, ErrorKind::InvalidInput, "{}", error.message);
                error.message
            }
        }
    }

    #[test]
    fn a_filled_form_becomes_settings_trimmed() -> Result<(), AppError> {
        let settings = settings(form(Some(" s3cr3t-value\n")), None)?;
        assert_eq!(settings.endpoint, "https://s3.eu-central-1.amazonaws.com");
        assert_eq!(settings.prefix, "arca/holiday");
        assert_eq!(settings.secret_access_key.expose(), "s3cr3t-value");
        assert_eq!(
            TargetSettings::S3(settings).describe(),
            "s3://holiday-photos/arca/holiday at https://s3.eu-central-1.amazonaws.com"
        );
        let upper = BucketTarget {
            endpoint: "HTTP://127.0.0.1:3900".to_owned(),
            ..form(Some("x"))
        };
        assert_eq!(
            super::settings(upper, None)?.endpoint,
            "http://127.0.0.1:3900"
        );
        Ok(())
    }

    #[test]
    fn each_bad_field_is_named() {
        let secret = Some("s3cr3t-value");
        for (input, said) in [
            (
                BucketTarget {
                    endpoint: String::new(),
                    ..form(secret)
                },
                "the endpoint URL is empty",
            ),
            (
                BucketTarget {
                    endpoint: "s3.amazonaws.com".to_owned(),
                    ..form(secret)
                },
                "is not an http:// or https:// address",
            ),
            (
                BucketTarget {
                    endpoint: "ftp://nas".to_owned(),
                    ..form(secret)
                },
                "is not an http:// or https:// address",
            ),
            (
                BucketTarget {
                    endpoint: "https://".to_owned(),
                    ..form(secret)
                },
                "has no host name",
            ),
            (
                BucketTarget {
                    endpoint: "https://nas .local".to_owned(),
                    ..form(secret)
                },
                "holds a space",
            ),
            (
                BucketTarget {
                    region: " ".to_owned(),
                    ..form(secret)
                },
                "the region is empty",
            ),
            (
                BucketTarget {
                    region: "eu central".to_owned(),
                    ..form(secret)
                },
                "is not a region name",
            ),
            (
                BucketTarget {
                    bucket: String::new(),
                    ..form(secret)
                },
                "the bucket name is empty",
            ),
            (
                BucketTarget {
                    bucket: "Holiday".to_owned(),
                    ..form(secret)
                },
                "\"Holiday\" is not a bucket name",
            ),
            (
                BucketTarget {
                    bucket: "ab".to_owned(),
                    ..form(secret)
                },
                "3 to 63",
            ),
            (
                BucketTarget {
                    prefix: "arca//holiday".to_owned(),
                    ..form(secret)
                },
                "has an empty, “.” or “..” part",
            ),
            (
                BucketTarget {
                    prefix: "../other".to_owned(),
                    ..form(secret)
                },
                "has an empty, “.” or “..” part",
            ),
            (
                BucketTarget {
                    access_key_id: "  ".to_owned(),
                    ..form(secret)
                },
                "the access key ID is empty",
            ),
            (
                BucketTarget {
                    access_key_id: "AKIA EXAMPLE".to_owned(),
                    ..form(secret)
                },
                "is not one",
            ),
            (form(None), "the secret access key is empty"),
            (form(Some("   ")), "the secret access key is empty"),
            (form(Some("line\nbreak")), "control character"),
        ] {
            let message = refused(input);
            assert!(message.contains(said), "{said:?} not in {message:?}");
        }
    }

    #[test]
    fn a_password_in_the_endpoint_is_refused_without_being_repeated() {
        let message = refused(BucketTarget {
            endpoint: "https://me:hunter2@nas.local".to_owned(),
            ..form(Some("x"))
        });
        assert!(message.contains("user name or password"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn the_stored_secret_is_kept_only_for_the_same_endpoint_and_key() -> Result<(), AppError> {
        let stored = TargetSettings::S3(settings(form(Some("the-stored-one")), None)?);
        let kept = settings(
            BucketTarget {
                bucket: "other-bucket".to_owned(),
                prefix: String::new(),
                ..form(None)
            },
            Some(&stored),
        )?;
        assert_eq!(kept.secret_access_key.expose(), "the-stored-one");
        assert_eq!(kept.bucket, "other-bucket");
        let replaced = settings(form(Some("a-new-one")), Some(&stored))?;
        assert_eq!(replaced.secret_access_key.expose(), "a-new-one");
        for other in [
            BucketTarget {
                access_key_id: "AKIAOTHER".to_owned(),
                ..form(None)
            },
            BucketTarget {
                endpoint: "https://evil.example".to_owned(),
                ..form(None)
            },
        ] {
            let error = settings(other, Some(&stored)).err();
            assert!(
                error.is_some_and(|e| e.message.contains("the stored one is kept only")),
                "the stored secret went to another key or endpoint"
            );
        }
        let folder = TargetSettings::Folder {
            path: "/media/usb".into(),
        };
        assert!(settings(form(None), Some(&folder)).is_err());
        Ok(())
    }

    #[test]
    fn the_services_words_lose_the_secret_and_are_cut_short() {
        let secret = Secret::new("wJalrXUtnFEMI".to_owned());
        let said = detail("signature of wJalrXUtnFEMI does not match", &secret);
        assert_eq!(said, "signature of [secret] does not match");
        let long = detail(&"é".repeat(2000), &secret);
        assert_eq!(long.chars().count(), MAX_DETAIL_CHARS + 1);
        for (said, gist) in [
            (
                "ConfigInvalid (persistent) at write, context: { response: Parts { status: 404 } } \
                 => S3Error { code: \"NoSuchBucket\", message: \"Bucket not found: x\", resource: \"/x\" }",
                "NoSuchBucket: Bucket not found: x",
            ),
            (
                "PermissionDenied (persistent) at stat, context: { response: Parts { status: 403, \
                 version: HTTP/1.1 }, service: s3 }",
                "the service answered with HTTP status 403",
            ),
            (
                "Unexpected (persistent) at stat, context: { url: http://x/ } => send http \
                 request, source: error sending request",
                "send http request, source: error sending request",
            ),
        ] {
            assert_eq!(detail(said, &secret), gist);
        }
    }

    #[test]
    fn an_address_nobody_answers_at_is_said_to_be_unreachable() -> Result<(), AppError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .map_err(|error| AppError::new(ErrorKind::Io, error.to_string()))?;
        let settings = settings(
            BucketTarget {
                endpoint: format!("http://127.0.0.1:{port}"),
                ..form(Some("wJalrXUtnFEMI-secret"))
            },
            None,
        )?;
        let error = check(&settings, Uuid::new_v4()).err();
        let error = error.ok_or_else(|| AppError::invalid("a closed port answered"))?;
        assert_eq!(
            error.kind,
            ErrorKind::BucketUnreachable,
            "{}",
            error.message
        );
        assert!(
            error.message.contains(&settings.endpoint),
            "{}",
            error.message
        );
        assert!(
            !error.message.contains("wJalrXUtnFEMI"),
            "{}",
            error.message
        );
        Ok(())
    }
}
