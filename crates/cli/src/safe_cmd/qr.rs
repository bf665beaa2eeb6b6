//! A sync configuration as a QR code, written as an image by `arca sync-config export --qr`
//! (`arca join` and `arca sync-config show` read a picture of it through the library).
//!
//! The code holds the configuration's text form (`ARCA-SYNC-CONFIG:…`, digits, capitals and
//! `:`/`-` only, which QR codes hold most densely), so it is as secret as the file: it opens
//! with the Safe Password.

use std::path::Path;

use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};

use crate::exit::Failure;

/// Pixels per module in a PNG: sharp on a screen, and large enough for a phone to read.
const PNG_MODULE: u32 = 8;
/// The blank border QR readers need, in modules.
const QUIET_ZONE: u32 = 4;

/// The kind of image to write, from the file's extension.
#[derive(Clone, Copy)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    pub fn of(path: &Path) -> Result<Self, Failure> {
        match path
            .extension()
            .and_then(|extension| extension.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Self::Svg),
            Some("png") => Ok(Self::Png),
            _ => Err(Failure::usage(
                format!("--qr {}: say which image to write", path.display()),
                "end the file's name in .svg or .png",
            )),
        }
    }
}

/// `text` as a QR code image.
pub fn image(text: &str, format: Format) -> Result<Vec<u8>, Failure> {
    // Medium error correction: a photo of a screen or a print survives a little blur.
    let code =
        QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|error| {
            Failure::usage(
                format!("the sync configuration is too large for a QR code ({error})"),
                "use the configuration file instead (--out FILE)",
            )
        })?;
    match format {
        Format::Svg => Ok(code
            .render::<qrcode::render::svg::Color<'_>>()
            .quiet_zone(true)
            .min_dimensions(600, 600)
            .build()
            .into_bytes()),
        Format::Png => {
            let width = u32::try_from(code.width()).unwrap_or(u32::MAX);
            let side = (width + 2 * QUIET_ZONE) * PNG_MODULE;
            let colors = code.to_colors();
            let image = GrayImage::from_fn(side, side, |x, y| {
                let (column, row) = (x / PNG_MODULE, y / PNG_MODULE);
                let dark = (QUIET_ZONE..QUIET_ZONE + width).contains(&column)
                    && (QUIET_ZONE..QUIET_ZONE + width).contains(&row)
                    && colors[((row - QUIET_ZONE) * width + column - QUIET_ZONE) as usize]
                        == qrcode::Color::Dark;
                Luma([if dark { 0 } else { 255 }])
            });
            let mut png = Vec::new();
            image
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|error| {
                    Failure::usage(
                        format!("cannot draw the QR code ({error})"),
                        "use --out FILE",
                    )
                })?;
            Ok(png)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_reads_back_as_the_text_it_was_made_of() {
        let text = format!("ARCA-SYNC-CONFIG:2:1000:{}", "0123456789ABCDEF".repeat(130));
        let png = image(&text, Format::Png).unwrap();
        assert!(arca_safe::is_picture(&png));
        assert_eq!(arca_safe::sync_config_from_picture(&png).unwrap(), text);
        let svg = String::from_utf8(image(&text, Format::Svg).unwrap()).unwrap();
        assert!(svg.contains("<svg"), "{}", &svg[..100]);
    }
}
