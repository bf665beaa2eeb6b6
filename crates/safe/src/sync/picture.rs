//! A sync configuration read back from a photo or screenshot of its QR code, for the CLI and the
//! app alike. The code holds the configuration's text form ([`super::sync_config_text`]); the
//! picture is a file from anywhere, so it is decoded within limits.

use std::io::Cursor;

/// A picture larger than this is not read.
pub const MAX_PICTURE_LEN: u64 = 64 * 1024 * 1024;
/// Nor one wider or higher than this (a phone's photo is about 4,000 pixels wide).
const MAX_PICTURE_SIDE: u32 = 16_000;
/// Memory a picture may take once decoded.
const MAX_PICTURE_ALLOC: u64 = 512 * 1024 * 1024;
/// How the text form begins.
const PREFIX: &str = "ARCA-SYNC-CONFIG:";

/// Why no sync configuration came out of a picture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureProblem {
    /// It starts like a PNG or JPEG but does not decode (the decoder's words).
    #[error("it does not open as a PNG or JPEG picture ({0})")]
    NotAPicture(String),
    /// No QR code was found in it.
    #[error("no QR code was found in it")]
    NoCode,
    /// QR codes were found, but none could be decoded (blurred, cut off, at a slant).
    #[error("its QR code could not be read")]
    Unreadable,
    /// Its QR codes hold something else.
    #[error("its QR code does not hold an Arca sync configuration")]
    NotSyncConfig,
}

/// Whether `bytes` start like a PNG or JPEG picture.
pub fn is_picture(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// The sync configuration (its text form) a QR code in the picture holds: the first code whose
/// text starts with `ARCA-SYNC-CONFIG:`.
///
/// # Errors
/// What was not found, as [`PictureProblem`].
pub fn sync_config_from_picture(bytes: &[u8]) -> Result<String, PictureProblem> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_PICTURE_SIDE);
    limits.max_image_height = Some(MAX_PICTURE_SIDE);
    limits.max_alloc = Some(MAX_PICTURE_ALLOC);
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| PictureProblem::NotAPicture(error.to_string()))?;
    reader.limits(limits);
    let picture = reader
        .decode()
        .map_err(|error| PictureProblem::NotAPicture(error.to_string()))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(picture);
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err(PictureProblem::NoCode);
    }
    let texts: Vec<String> = grids
        .iter()
        .filter_map(|grid| grid.decode().ok())
        .map(|(_, text)| text)
        .collect();
    if texts.is_empty() {
        return Err(PictureProblem::Unreadable);
    }
    texts
        .into_iter()
        .find(|text| text.starts_with(PREFIX))
        .ok_or(PictureProblem::NotSyncConfig)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use image::{GrayImage, Luma};
    use qrcode::{EcLevel, QrCode};

    use super::*;

    fn png(picture: &GrayImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    }

    /// `text` as a QR code, four pixels a module, with its blank border.
    fn code(text: &str) -> Vec<u8> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        let width = u32::try_from(code.width()).unwrap();
        let colors = code.to_colors();
        let side = (width + 8) * 4;
        png(&GrayImage::from_fn(side, side, |x, y| {
            let (column, row) = (x / 4, y / 4);
            let dark = (4..4 + width).contains(&column)
                && (4..4 + width).contains(&row)
                && colors[((row - 4) * width + column - 4) as usize] == qrcode::Color::Dark;
            Luma([if dark { 0 } else { 255 }])
        }))
    }

    #[test]
    fn a_picture_of_the_code_reads_back_as_its_text() {
        let text = format!("{PREFIX}2:1000000:{}", "0123456789ABCDEF".repeat(130));
        let picture = code(&text);
        assert!(is_picture(&picture));
        assert_eq!(sync_config_from_picture(&picture), Ok(text));
    }

    #[test]
    fn pictures_without_a_configuration_say_what_they_lack() {
        let blank = GrayImage::from_pixel(200, 200, Luma([255]));
        assert_eq!(
            sync_config_from_picture(&png(&blank)),
            Err(PictureProblem::NoCode)
        );
        assert_eq!(
            sync_config_from_picture(&code("https://example.com/not-arca")),
            Err(PictureProblem::NotSyncConfig)
        );
        assert!(matches!(
            sync_config_from_picture(b"\x89PNG\r\n\x1a\nbroken"),
            Err(PictureProblem::NotAPicture(_))
        ));
        assert!(!is_picture(b"{\"format\": \"arca-sync-config\"}"));
    }

    #[test]
    fn a_picture_too_large_to_decode_is_refused_before_it_takes_the_memory() {
        // A valid PNG header announcing 100,000 × 100,000 pixels (ten gigabytes decoded).
        let mut header = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let ihdr = [100_000u32.to_be_bytes(), 100_000u32.to_be_bytes()].concat();
        header.extend_from_slice(&ihdr);
        header.extend_from_slice(&[8, 0, 0, 0, 0]);
        let crc = crc(&header[12..]);
        header.extend_from_slice(&crc.to_be_bytes());
        let Err(PictureProblem::NotAPicture(error)) = sync_config_from_picture(&header) else {
            panic!("a picture of ten gigabytes is decoded");
        };
        assert!(error.contains("limit"), "{error}");
    }

    fn crc(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
