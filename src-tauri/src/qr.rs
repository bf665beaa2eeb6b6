//! A sync configuration as a QR code, drawn for the export dialog (an SVG the window shows while
//! the dialog is open). A picture of it is read back by the library
//! ([`arca_safe::sync_config_from_picture`]) when a device joins.
//!
//! The code holds the configuration's text form (`ARCA-SYNC-CONFIG:…`, which QR codes hold most
//! densely), as `arca sync-config export --qr` writes it: it opens with the Safe Password, like
//! the file.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::dto::SyncConfigQr;

/// The most characters of the text form a QR code holds at medium error correction (version 40,
/// alphanumeric mode).
pub const MAX_CHARACTERS: u32 = 3391;
/// The blank border QR readers need, in modules (the renderer's).
const QUIET_ZONE: u32 = 4;

/// `text` as a QR code: medium error correction (a photo of a screen survives a little blur),
/// black on white with the blank border readers need. No image when it is too long for one.
pub fn code(text: &str) -> SyncConfigQr {
    let characters = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
    // The only failure for a text this short is its length: past version 40 there is none.
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok();
    let modules = code.as_ref().map_or(0, |code| {
        u32::try_from(code.width()).unwrap_or(0) + 2 * QUIET_ZONE
    });
    let svg = code.map(|code| {
        code.render::<svg::Color<'_>>()
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .min_dimensions(480, 480)
            .build()
    });
    SyncConfigQr {
        svg,
        modules,
        characters,
        max_characters: MAX_CHARACTERS,
    }
}

#[cfg(test)]
pub mod tests {
    use std::io::Cursor;

    use image::{GrayImage, Luma};

    use super::*;

    const PREFIX: &str = "ARCA-SYNC-CONFIG:";

    /// Pixels per module in a test picture.
    const MODULE: u32 = 4;

    /// `text` as a PNG QR code, as a screenshot of one would be.
    pub fn png(text: &str) -> Vec<u8> {
        let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) else {
            return Vec::new();
        };
        let width = u32::try_from(code.width()).unwrap_or(0);
        let colors = code.to_colors();
        let side = (width + 8) * MODULE;
        let picture = GrayImage::from_fn(side, side, |x, y| {
            let (column, row) = (x / MODULE, y / MODULE);
            let inside = (4..4 + width).contains(&column) && (4..4 + width).contains(&row);
            let dark = inside
                && colors
                    .get(((row - 4) * width + column - 4) as usize)
                    .is_some_and(|color| *color == qrcode::Color::Dark);
            Luma([if dark { 0 } else { 255 }])
        });
        encoded(&picture, image::ImageFormat::Png)
    }

    pub fn encoded(picture: &GrayImage, format: image::ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        let _ = picture.write_to(&mut Cursor::new(&mut bytes), format);
        bytes
    }

    #[test]
    fn a_code_reads_back_as_its_text() {
        let text = format!("{PREFIX}2:1000000:{}", "0123456789ABCDEF".repeat(130));
        let drawn = code(&text);
        assert_eq!(drawn.characters as usize, text.len());
        let svg = drawn.svg.unwrap_or_default();
        assert!(
            svg.starts_with("<?xml") || svg.starts_with("<svg"),
            "{svg:.80}"
        );
        // A version's 4v + 17 modules a side, and the quiet zone (version 34, 153 modules, for
        // these 2,107 characters); the image is a whole number of pixels a module.
        assert_eq!(drawn.modules, 4 * 34 + 17 + 8);
        let width: u32 = svg
            .split(" width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|width| width.parse().ok())
            .unwrap_or_default();
        assert_eq!(width % drawn.modules, 0, "{width}");
        assert!(
            svg.contains("#000000") && svg.contains("#ffffff"),
            "{svg:.300}"
        );
        let png = png(&text);
        assert!(arca_safe::is_picture(&png));
        assert_eq!(arca_safe::sync_config_from_picture(&png), Ok(text));
    }

    #[test]
    fn a_text_too_long_for_a_code_has_no_image() {
        let fits = format!(
            "{PREFIX}{}",
            "A".repeat(MAX_CHARACTERS as usize - PREFIX.len())
        );
        assert!(code(&fits).svg.is_some());
        let too_long = format!("{fits}A");
        let drawn = code(&too_long);
        assert_eq!(drawn.svg, None);
        assert_eq!(drawn.modules, 0);
        assert_eq!(drawn.characters, MAX_CHARACTERS + 1);
    }
}
