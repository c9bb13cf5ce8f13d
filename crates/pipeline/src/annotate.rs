//! Drawing results onto a picture (the CLI's `--annotate`; the site draws its own overlay on a canvas): a box per
//! face in the colour of its emotion, and above it a label bar with an emoji-like marker (a small
//! drawn face: no emoji font is needed) and the label with its probability in a built-in 5x7 font.
//! Colours and markers go by the label's name in the contract, not by its place in the label order.

use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::classify::argmax;
use crate::contract::Contract;
use crate::geometry::BoxF;
use crate::smooth::TrackedFace;
use crate::FaceResult;

/// What to draw for one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub bbox: BoxF,
    /// Index of the label to show.
    pub class: usize,
    /// Probability of that label, 0..1.
    pub confidence: f32,
    /// Drawn grey, with a question mark.
    pub uncertain: bool,
}

impl From<&FaceResult> for Annotation {
    fn from(f: &FaceResult) -> Self {
        let class = argmax(&f.probabilities);
        Annotation {
            bbox: f.detection.bbox,
            class,
            confidence: f.probabilities[class],
            uncertain: false,
        }
    }
}

impl From<&TrackedFace> for Annotation {
    fn from(f: &TrackedFace) -> Self {
        Annotation {
            bbox: f.bbox,
            class: f.top,
            confidence: f.confidence,
            uncertain: f.uncertain,
        }
    }
}

/// Colour of a label's box and bar, by the label's name in the contract; unknown names are drawn white.
fn colour(label: &str) -> [u8; 3] {
    match label {
        "angry" => [230, 60, 40],
        "disgust" => [110, 170, 50],
        "fear" => [150, 110, 200],
        "happy" => [250, 200, 30],
        "neutral" => [200, 200, 200],
        "sad" => [70, 130, 230],
        "surprise" => [250, 140, 30],
        _ => [255; 3],
    }
}

const UNCERTAIN: [u8; 3] = [150, 150, 150];
const INK: [u8; 3] = [20, 20, 20];

/// Draws every face onto `img`.
pub fn annotate(img: &mut RgbImage, faces: &[Annotation], contract: &Contract) {
    for f in faces {
        let name = contract
            .labels
            .get(f.class)
            .map(String::as_str)
            .unwrap_or("?");
        let colour = if f.uncertain { UNCERTAIN } else { colour(name) };
        let scale = ((f.bbox.w / 90.0).round() as i32).clamp(1, 6);
        let thick = scale.max(2);
        let (x0, y0) = (f.bbox.x.round() as i32, f.bbox.y.round() as i32);
        let (x1, y1) = (
            (f.bbox.x + f.bbox.w).round() as i32,
            (f.bbox.y + f.bbox.h).round() as i32,
        );
        for t in 0..thick {
            fill_rect(img, x0 - t, y0 - t, x1 + t, y0 - t, colour);
            fill_rect(img, x0 - t, y1 + t, x1 + t, y1 + t, colour);
            fill_rect(img, x0 - t, y0 - t, x0 - t, y1 + t, colour);
            fill_rect(img, x1 + t, y0 - t, x1 + t, y1 + t, colour);
        }
        let text = format!(
            "{}{} {:.0}%",
            name.to_ascii_uppercase(),
            if f.uncertain { "?" } else { "" },
            (f.confidence * 100.0).clamp(0.0, 100.0)
        );
        // Label bar above the box (inside it when the box touches the top edge).
        let pad = 2 * scale;
        let bar_h = 7 * scale + 2 * pad;
        let marker = bar_h - 2 * pad / 2;
        let bar_w = marker + pad + text_width(&text, scale) + 2 * pad;
        let by = if y0 - thick - bar_h >= 0 {
            y0 - thick - bar_h
        } else {
            y0
        };
        let bx = x0 - thick + 1;
        fill_rect(img, bx, by, bx + bar_w, by + bar_h, colour);
        draw_marker(
            img,
            bx + pad / 2 + marker / 2,
            by + bar_h / 2,
            marker / 2,
            name,
            f.uncertain,
        );
        draw_text(img, bx + marker + pad, by + pad, &text, scale, INK);
    }
}

fn put(img: &mut RgbImage, x: i32, y: i32, c: [u8; 3]) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, Rgb(c));
    }
}

/// Fills the rectangle with corners (x0, y0) and (x1, y1), both included, clipped to the image.
fn fill_rect(img: &mut RgbImage, x0: i32, y0: i32, x1: i32, y1: i32, c: [u8; 3]) {
    let (w, h) = (img.width() as i32, img.height() as i32);
    for y in y0.max(0)..=y1.min(h - 1) {
        for x in x0.max(0)..=x1.min(w - 1) {
            img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    }
}

fn fill_disc(img: &mut RgbImage, cx: i32, cy: i32, r: i32, c: [u8; 3]) {
    for dy in -r..=r {
        for dx in -r..=r {
            if dx * dx + dy * dy <= r * r {
                put(img, cx + dx, cy + dy, c);
            }
        }
    }
}

/// A thick polyline through points given relative to the marker (units of its radius).
fn stroke(img: &mut RgbImage, cx: i32, cy: i32, r: i32, pts: &[(f32, f32)], c: [u8; 3]) {
    let pen = (r / 6).max(1);
    for seg in pts.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) * r as f32 * 2.0)
            .ceil()
            .max(1.0) as i32;
        for s in 0..=steps {
            let t = s as f32 / steps as f32;
            let x = cx + ((a.0 + (b.0 - a.0) * t) * r as f32).round() as i32;
            let y = cy + ((a.1 + (b.1 - a.1) * t) * r as f32).round() as i32;
            fill_disc(img, x, y, pen / 2, c);
        }
    }
}

fn arc(centre: (f32, f32), radius: f32, from_deg: f32, to_deg: f32) -> Vec<(f32, f32)> {
    (0..=12)
        .map(|i| {
            let a = (from_deg + (to_deg - from_deg) * i as f32 / 12.0).to_radians();
            (centre.0 + radius * a.cos(), centre.1 + radius * a.sin())
        })
        .collect()
}

/// A small drawn face standing in for the label's emoji (a plain yellow face for unknown names).
fn draw_marker(img: &mut RgbImage, cx: i32, cy: i32, r: i32, label: &str, uncertain: bool) {
    let skin = match label {
        "angry" => [240, 90, 60],    // red
        "disgust" => [150, 200, 90], // green
        "fear" => [190, 200, 240],   // pale blue
        _ => [255, 215, 60],         // yellow
    };
    fill_disc(img, cx, cy, r, INK);
    fill_disc(
        img,
        cx,
        cy,
        (r - (r / 8).max(1)).max(1),
        if uncertain { [210, 210, 210] } else { skin },
    );
    let eye = (r / 7).max(1);
    for ex in [-0.35f32, 0.35] {
        fill_disc(
            img,
            cx + (ex * r as f32) as i32,
            cy - (0.2 * r as f32) as i32,
            eye,
            INK,
        );
    }
    match label {
        "angry" => {
            stroke(img, cx, cy, r, &[(-0.6, -0.55), (-0.15, -0.35)], INK);
            stroke(img, cx, cy, r, &[(0.6, -0.55), (0.15, -0.35)], INK);
            stroke(img, cx, cy, r, &arc((0.0, 0.75), 0.4, 220.0, 320.0), INK);
        }
        "disgust" => stroke(
            img,
            cx,
            cy,
            r,
            &[(-0.45, 0.4), (-0.15, 0.3), (0.15, 0.5), (0.45, 0.35)],
            INK,
        ),
        "fear" => {
            stroke(img, cx, cy, r, &[(-0.55, -0.5), (-0.2, -0.6)], INK);
            stroke(img, cx, cy, r, &[(0.55, -0.5), (0.2, -0.6)], INK);
            stroke(img, cx, cy, r, &arc((0.0, 0.4), 0.2, 0.0, 360.0), INK);
        }
        "happy" => stroke(img, cx, cy, r, &arc((0.0, 0.1), 0.45, 20.0, 160.0), INK),
        "sad" => stroke(img, cx, cy, r, &arc((0.0, 0.75), 0.4, 210.0, 330.0), INK),
        "surprise" => stroke(img, cx, cy, r, &arc((0.0, 0.4), 0.25, 0.0, 360.0), INK),
        _ => stroke(img, cx, cy, r, &[(-0.35, 0.4), (0.35, 0.4)], INK), // neutral
    }
}

fn text_width(text: &str, scale: i32) -> i32 {
    text.chars().count() as i32 * 6 * scale - scale
}

fn draw_text(img: &mut RgbImage, x: i32, y: i32, text: &str, scale: i32, c: [u8; 3]) {
    for (i, ch) in text.chars().enumerate() {
        let rows = glyph(ch);
        let gx = x + i as i32 * 6 * scale;
        for (row, bits) in rows.iter().enumerate() {
            for (col, b) in bits.bytes().enumerate() {
                if b == b'#' {
                    let px = gx + col as i32 * scale;
                    let py = y + row as i32 * scale;
                    fill_rect(img, px, py, px + scale - 1, py + scale - 1, c);
                }
            }
        }
    }
}

/// 5x7 glyphs for upper-case letters, digits and a little punctuation; anything else is a box.
fn glyph(c: char) -> [&'static str; 7] {
    match c.to_ascii_uppercase() {
        'A' => [
            ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
        ],
        'B' => [
            "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####.",
        ],
        'C' => [
            ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###.",
        ],
        'D' => [
            "####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####.",
        ],
        'E' => [
            "#####", "#....", "#....", "####.", "#....", "#....", "#####",
        ],
        'F' => [
            "#####", "#....", "#....", "####.", "#....", "#....", "#....",
        ],
        'G' => [
            ".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####",
        ],
        'H' => [
            "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
        ],
        'I' => [
            ".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###.",
        ],
        'J' => [
            "..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##..",
        ],
        'K' => [
            "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#",
        ],
        'L' => [
            "#....", "#....", "#....", "#....", "#....", "#....", "#####",
        ],
        'M' => [
            "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#",
        ],
        'N' => [
            "#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#",
        ],
        'O' => [
            ".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.",
        ],
        'P' => [
            "####.", "#...#", "#...#", "####.", "#....", "#....", "#....",
        ],
        'Q' => [
            ".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#",
        ],
        'R' => [
            "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#",
        ],
        'S' => [
            ".####", "#....", "#....", ".###.", "....#", "....#", "####.",
        ],
        'T' => [
            "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..",
        ],
        'U' => [
            "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.",
        ],
        'V' => [
            "#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#..",
        ],
        'W' => [
            "#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#.",
        ],
        'X' => [
            "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#",
        ],
        'Y' => [
            "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#..",
        ],
        'Z' => [
            "#####", "....#", "...#.", "..#..", ".#...", "#....", "#####",
        ],
        '0' => [
            ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###.",
        ],
        '1' => [
            "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###.",
        ],
        '2' => [
            ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####",
        ],
        '3' => [
            "#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###.",
        ],
        '4' => [
            "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#.",
        ],
        '5' => [
            "#####", "#....", "####.", "....#", "....#", "#...#", ".###.",
        ],
        '6' => [
            "..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###.",
        ],
        '7' => [
            "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#...",
        ],
        '8' => [
            ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###.",
        ],
        '9' => [
            ".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##..",
        ],
        '%' => [
            "##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##",
        ],
        '.' => [
            ".....", ".....", ".....", ".....", ".....", ".##..", ".##..",
        ],
        ':' => [
            ".....", ".##..", ".##..", ".....", ".##..", ".##..", ".....",
        ],
        '-' => [
            ".....", ".....", ".....", "#####", ".....", ".....", ".....",
        ],
        '?' => [
            ".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#..",
        ],
        ' ' => [
            ".....", ".....", ".....", ".....", ".....", ".....", ".....",
        ],
        _ => [
            "#####", "#...#", "#...#", "#...#", "#...#", "#...#", "#####",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_face_gets_a_box_in_its_colour_and_a_label_bar() {
        let c = Contract::shipped();
        let mut img = RgbImage::new(200, 200);
        let a = Annotation {
            bbox: BoxF {
                x: 50.0,
                y: 80.0,
                w: 90.0,
                h: 90.0,
            },
            class: c.label_index("happy").expect("a happy label"),
            confidence: 0.87,
            uncertain: false,
        };
        annotate(&mut img, &[a], c);
        // Box edges in the label's colour.
        let happy = colour("happy");
        assert_eq!(img.get_pixel(50, 120).0, happy);
        assert_eq!(img.get_pixel(140, 120).0, happy);
        assert_eq!(img.get_pixel(95, 170).0, happy);
        // Inside the box untouched; label bar above the box holds ink (text) pixels.
        assert_eq!(img.get_pixel(95, 120).0, [0, 0, 0]);
        let ink = (40..80)
            .flat_map(|y| (40..200).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == INK)
            .count();
        assert!(ink > 50, "{ink} ink pixels");
    }

    #[test]
    fn every_contract_label_has_a_colour_of_its_own() {
        let labels = &Contract::shipped().labels;
        let mut colours: Vec<[u8; 3]> = labels.iter().map(|l| colour(l)).collect();
        assert!(
            colours.iter().all(|&c| c != [255; 3]),
            "a label of {labels:?} has no colour here"
        );
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), labels.len());
    }

    #[test]
    fn boxes_off_the_edges_do_not_panic() {
        let c = Contract::shipped();
        let mut img = RgbImage::new(30, 20);
        let faces = [
            Annotation {
                bbox: BoxF {
                    x: -50.0,
                    y: -50.0,
                    w: 500.0,
                    h: 500.0,
                },
                class: 0,
                confidence: 1.0,
                uncertain: true,
            },
            Annotation {
                bbox: BoxF {
                    x: 25.0,
                    y: 15.0,
                    w: 10.0,
                    h: 10.0,
                },
                class: 99,
                confidence: f32::NAN,
                uncertain: false,
            },
        ];
        annotate(&mut img, &faces, c);
    }

    #[test]
    fn every_glyph_is_five_by_seven() {
        for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%.:-? ~".chars() {
            assert!(glyph(ch).iter().all(|r| r.len() == 5), "{ch}");
        }
    }
}
