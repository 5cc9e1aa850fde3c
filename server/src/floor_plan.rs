//! Floor plans: the picture drawn under a room's floor. A room has none, one of the
//! built-in plans that ship with the binary (`server/plans/*.svg`, drawn for Hallway), or
//! an image an operator or host uploaded (PNG, JPEG or SVG up to 5 MB, checked by its
//! bytes, never by its name or the type a client claims).
//!
//! The room knows only which plan it has ([`FloorPlan`]); the image's bytes live in the
//! room store, and clients fetch them from this server by a URL that carries a version,
//! so that a changed plan is never served from a stale cache.

use std::fmt;

use sha2::{Digest, Sha256};

/// Largest image accepted as a floor plan.
pub const MAX_FLOOR_PLAN_BYTES: usize = 5 * 1024 * 1024;

/// Which plan a room shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FloorPlan {
    /// One of the plans built into the binary.
    Builtin(Builtin),
    /// An uploaded image, kept in the room store; `version` names its content.
    Upload {
        /// The first 16 hex digits of the image's SHA-256.
        version: String,
    },
}

impl FloorPlan {
    /// Where a room's clients fetch the picture (same origin; the version in the query
    /// changes whenever the picture does).
    pub fn url(&self, slug: &str) -> String {
        match self {
            FloorPlan::Builtin(plan) => format!(
                "/plans/{}.svg?v={}",
                plan.name(),
                &version_of(plan.svg().as_bytes())[..8]
            ),
            FloorPlan::Upload { version } => format!("/r/{slug}/floor-plan?v={version}"),
        }
    }

    /// A built-in plan by its `builtin:<name>` form (what hosts send and operators type).
    pub fn parse_builtin(text: &str) -> Result<FloorPlan, FloorPlanError> {
        text.strip_prefix("builtin:")
            .and_then(Builtin::from_name)
            .map(FloorPlan::Builtin)
            .ok_or(FloorPlanError::UnknownBuiltin)
    }
}

/// Kept in the room store as `builtin:<name>` or `upload:<version>`.
impl fmt::Display for FloorPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FloorPlan::Builtin(plan) => write!(f, "builtin:{}", plan.name()),
            FloorPlan::Upload { version } => write!(f, "upload:{version}"),
        }
    }
}

impl std::str::FromStr for FloorPlan {
    type Err = FloorPlanError;

    fn from_str(text: &str) -> Result<FloorPlan, FloorPlanError> {
        if let Some(version) = text.strip_prefix("upload:") {
            let hex = version.len() == 16
                && version
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            return if hex {
                Ok(FloorPlan::Upload {
                    version: version.to_owned(),
                })
            } else {
                Err(FloorPlanError::UnknownBuiltin)
            };
        }
        FloorPlan::parse_builtin(text)
    }
}

impl serde::Serialize for FloorPlan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for FloorPlan {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The plans that ship with the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// An entrance hall: a reception desk, coat racks, sofas, plants.
    Foyer,
    /// A hall with a stage at the top and rows of tables.
    Hall,
    /// A garden: lawn, paths, trees, a pond, a pavilion.
    Garden,
}

impl Builtin {
    /// Every built-in plan, in the order a host's chooser shows them.
    pub const ALL: [Builtin; 3] = [Builtin::Foyer, Builtin::Hall, Builtin::Garden];

    /// The name in `builtin:<name>` and in `/plans/<name>.svg`.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Foyer => "foyer",
            Builtin::Hall => "hall",
            Builtin::Garden => "garden",
        }
    }

    /// The plan with this name.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The drawing (2400 × 1600 units, the default floor).
    pub fn svg(self) -> &'static str {
        match self {
            Builtin::Foyer => include_str!("../plans/foyer.svg"),
            Builtin::Hall => include_str!("../plans/hall.svg"),
            Builtin::Garden => include_str!("../plans/garden.svg"),
        }
    }
}

/// What kind of image an upload is, as its bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// SVG: well-formed XML whose root is `<svg>`.
    Svg,
}

impl ImageFormat {
    /// The MIME type it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Svg => "image/svg+xml",
        }
    }
}

/// Why an image is not taken as a floor plan, or a plan name is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FloorPlanError {
    /// More than [`MAX_FLOOR_PLAN_BYTES`].
    #[error("a floor plan is at most 5 MB")]
    TooLarge,
    /// Nothing was sent.
    #[error("the floor plan is empty")]
    Empty,
    /// The bytes are not a PNG, a JPEG or an SVG.
    #[error("a floor plan must be a PNG, JPEG or SVG image")]
    UnsupportedFormat,
    /// It looks like SVG but is not well-formed XML with an `<svg>` root (or it declares
    /// a DTD, which could expand entities without end).
    #[error("the SVG is not well-formed XML with an <svg> root (and no DTD)")]
    InvalidSvg,
    /// No built-in plan has this name (they are `builtin:foyer`, `builtin:hall` and
    /// `builtin:garden`).
    #[error("unknown floor plan: use builtin:foyer, builtin:hall or builtin:garden")]
    UnknownBuiltin,
}

/// Checks an uploaded image by its bytes: its format, or why it is refused.
pub fn check_image(bytes: &[u8]) -> Result<ImageFormat, FloorPlanError> {
    if bytes.is_empty() {
        return Err(FloorPlanError::Empty);
    }
    if bytes.len() > MAX_FLOOR_PLAN_BYTES {
        return Err(FloorPlanError::TooLarge);
    }
    if let Some(format) = sniff(bytes) {
        return Ok(format);
    }
    check_svg(bytes).map(|()| ImageFormat::Svg)
}

/// PNG or JPEG by their magic bytes; `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    const JPEG: &[u8] = b"\xff\xd8\xff";
    if bytes.starts_with(PNG) {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(JPEG) {
        Some(ImageFormat::Jpeg)
    } else {
        None
    }
}

/// Whether the bytes are an SVG document: UTF-8, well-formed XML, no DTD, `<svg>` root.
fn check_svg(bytes: &[u8]) -> Result<(), FloorPlanError> {
    let text = std::str::from_utf8(bytes).map_err(|_| FloorPlanError::UnsupportedFormat)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.trim_start().starts_with('<') {
        return Err(FloorPlanError::UnsupportedFormat);
    }
    // roxmltree refuses a DTD by default: no entity expansion to worry about.
    let document = roxmltree::Document::parse(text).map_err(|_| FloorPlanError::InvalidSvg)?;
    if document.root_element().tag_name().name() == "svg" {
        Ok(())
    } else {
        Err(FloorPlanError::InvalidSvg)
    }
}

/// The format of a stored image (checked when it was stored).
pub fn format_of(bytes: &[u8]) -> ImageFormat {
    sniff(bytes).unwrap_or(ImageFormat::Svg)
}

/// A content's version: the first 16 hex digits of its SHA-256.
pub fn version_of(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The Content-Security-Policy an SVG floor plan is served with: it may show itself and
/// nothing else, and runs no script even when opened on its own.
pub const SVG_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                           script-src 'none'; object-src 'none'; frame-ancestors 'none'; \
                           sandbox";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_their_bytes() {
        assert_eq!(check_image(b"\x89PNG\r\n\x1a\nrest"), Ok(ImageFormat::Png));
        assert_eq!(check_image(b"\xff\xd8\xff\xe0rest"), Ok(ImageFormat::Jpeg));
        assert_eq!(
            check_image(br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#),
            Ok(ImageFormat::Svg)
        );
        assert_eq!(check_image(b""), Err(FloorPlanError::Empty));
        assert_eq!(
            check_image(b"GIF89a...."),
            Err(FloorPlanError::UnsupportedFormat)
        );
        assert_eq!(
            check_image(b"<svg><g></svg>"),
            Err(FloorPlanError::InvalidSvg)
        );
        assert_eq!(
            check_image(b"<html><svg/></html>"),
            Err(FloorPlanError::InvalidSvg)
        );
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>"#;
        assert_eq!(check_image(bomb), Err(FloorPlanError::InvalidSvg));
        let big = vec![0x89; MAX_FLOOR_PLAN_BYTES + 1];
        assert_eq!(check_image(&big), Err(FloorPlanError::TooLarge));
    }

    #[test]
    fn every_builtin_plan_is_an_svg_of_the_default_floor() {
        for plan in Builtin::ALL {
            assert_eq!(
                check_image(plan.svg().as_bytes()),
                Ok(ImageFormat::Svg),
                "{}",
                plan.name()
            );
            assert!(
                plan.svg().contains(r#"viewBox="0 0 2400 1600""#),
                "{} is drawn for 2400 × 1600",
                plan.name()
            );
            assert!(!plan.svg().contains("<script"), "{}", plan.name());
            assert!(!plan.svg().contains("<text"), "{} has no text", plan.name());
        }
    }

    #[test]
    fn plans_are_kept_as_text_and_read_back() {
        for text in ["builtin:foyer", "builtin:hall", "builtin:garden"] {
            let plan: FloorPlan = text.parse().expect("parses");
            assert_eq!(plan.to_string(), text);
        }
        let upload: FloorPlan = "upload:0123456789abcdef".parse().expect("parses");
        assert_eq!(
            upload.url("lobby"),
            "/r/lobby/floor-plan?v=0123456789abcdef"
        );
        assert!("builtin:castle".parse::<FloorPlan>().is_err());
        assert!("upload:../../etc".parse::<FloorPlan>().is_err());
        assert!(
            FloorPlan::Builtin(Builtin::Hall)
                .url("x")
                .starts_with("/plans/hall.svg?v=")
        );
    }
}
