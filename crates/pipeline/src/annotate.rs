//! Drawing results onto a picture (the CLI's `--annotate`; the site draws its own overlay on a canvas): a box per
//! face in the colour of its emotion, a label bar above it with the label and its probability in a built-in 5x7
//! font, and beside the box the emotion's emoji artwork ([`crate::artwork`], compiled in: no emoji font is needed).
//! Colours and pictures go by the label's name in the contract, not by its place in the label order.

use image::{imageops, Rgb, RgbImage, RgbaImage};
use serde::{Deserialize, Serialize};

use crate::artwork;
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
    /// Drawn grey, with a question mark and the "not sure" picture.
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
        let bar_w = text_width(&text, scale) + 2 * pad;
        let by = if y0 - thick - bar_h >= 0 {
            y0 - thick - bar_h
        } else {
            y0
        };
        let bx = x0 - thick + 1;
        fill_rect(img, bx, by, bx + bar_w, by + bar_h, colour);
        draw_text(img, bx + pad, by + pad, &text, scale, INK);
        let picture = if f.uncertain { artwork::NOT_SURE } else { name };
        if let (Some(art), Some((ax, ay, side))) = (
            artwork::image(picture),
            artwork_square((x0, y0, x1), thick, img.width(), img.height()),
        ) {
            draw_picture(img, art, ax, ay, side);
        }
    }
}

/// Where a face's picture goes, as (left, top, side): a square half as wide as the box (24 to 128 px, at most the
/// image's shorter side), level with the box's top, right of the box; left of it where the right has no room; inside
/// the box's top-right corner where neither side has. `None` for an empty image.
fn artwork_square(
    (x0, y0, x1): (i32, i32, i32),
    thick: i32,
    width: u32,
    height: u32,
) -> Option<(i32, i32, u32)> {
    let (w, h) = (width as i32, height as i32);
    if w == 0 || h == 0 {
        return None;
    }
    let side = ((x1 - x0) / 2).clamp(24, 128).min(w.min(h));
    let gap = thick + (side / 16).max(2);
    let x = if x1 + gap + side <= w {
        x1 + gap
    } else if x0 - gap - side >= 0 {
        x0 - gap - side
    } else {
        (x1 - thick - side).clamp(0, w - side)
    };
    Some((x, y0.clamp(0, h - side), side as u32))
}

/// Draws `art` scaled to `side` x `side` with its top-left corner at (`x`, `y`), blended by its alpha (scaled with
/// premultiplied colours, so its transparent edge leaves no dark fringe).
fn draw_picture(img: &mut RgbImage, art: &RgbaImage, x: i32, y: i32, side: u32) {
    let premultiplied = RgbaImage::from_fn(art.width(), art.height(), |i, j| {
        let [r, g, b, a] = art.get_pixel(i, j).0;
        let m = |c: u8| ((u16::from(c) * u16::from(a) + 127) / 255) as u8;
        image::Rgba([m(r), m(g), m(b), a])
    });
    let scaled = imageops::resize(&premultiplied, side, side, imageops::FilterType::Triangle);
    for (i, j, p) in scaled.enumerate_pixels() {
        let (px, py) = (x + i as i32, y + j as i32);
        if px < 0 || py < 0 || px as u32 >= img.width() || py as u32 >= img.height() {
            continue;
        }
        let [r, g, b, a] = p.0;
        let under = img.get_pixel_mut(px as u32, py as u32);
        let keep = 255 - u16::from(a);
        for (dst, src) in under.0.iter_mut().zip([r, g, b]) {
            *dst = (u16::from(src) + (u16::from(*dst) * keep + 127) / 255).min(255) as u8;
        }
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
        annotate(&mut RgbImage::new(0, 0), &faces, c);
    }

    /// Mean absolute difference, per channel, between the `side` square of `img` at (`x`, `y`) and `art` scaled to
    /// it over black.
    fn difference_from(img: &RgbImage, x: u32, y: u32, side: u32, art: &RgbaImage) -> f64 {
        let scaled = imageops::resize(art, side, side, imageops::FilterType::Triangle);
        let mut total = 0.0;
        for (i, j, p) in scaled.enumerate_pixels() {
            let a = f64::from(p[3]) / 255.0;
            let drawn = img.get_pixel(x + i, y + j);
            for ch in 0..3 {
                total += (f64::from(p[ch]) * a - f64::from(drawn[ch])).abs();
            }
        }
        total / f64::from(side * side * 3)
    }

    fn face(class: usize, x: f32, uncertain: bool) -> Annotation {
        Annotation {
            bbox: BoxF {
                x,
                y: 60.0,
                w: 100.0,
                h: 100.0,
            },
            class,
            confidence: 0.6,
            uncertain,
        }
    }

    #[test]
    fn the_emotions_picture_stands_right_of_the_box() {
        let c = Contract::shipped();
        let happy = c.label_index("happy").expect("a happy label");
        let mut img = RgbImage::new(300, 200);
        annotate(&mut img, &[face(happy, 50.0, false)], c);
        // Box right edge 150, 2 px thick, gap 2 + 50/16 = 5: a 50 px square at (155, 60).
        let art = |n| artwork::image(n).expect("artwork");
        let d = difference_from(&img, 155, 60, 50, art("happy"));
        assert!(d < 6.0, "differs from the happy picture by {d}");
        assert!(difference_from(&img, 155, 60, 50, art("sad")) > 2.0 * d);
        // Nothing of it inside the box.
        assert_eq!(img.get_pixel(100, 110).0, [0, 0, 0]);
    }

    #[test]
    fn an_uncertain_face_gets_the_not_sure_picture_left_of_a_box_on_the_right_edge() {
        let c = Contract::shipped();
        let happy = c.label_index("happy").expect("a happy label");
        let mut img = RgbImage::new(300, 200);
        annotate(&mut img, &[face(happy, 180.0, true)], c);
        // No room right of 280: left of 180, 5 px away, is (125, 60).
        let art = |n| artwork::image(n).expect("artwork");
        let d = difference_from(&img, 125, 60, 50, art(artwork::NOT_SURE));
        assert!(d < 6.0, "differs from the not-sure picture by {d}");
        assert!(difference_from(&img, 125, 60, 50, art("happy")) > 2.0 * d);
    }

    #[test]
    fn every_glyph_is_five_by_seven() {
        for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%.:-? ~".chars() {
            assert!(glyph(ch).iter().all(|r| r.len() == 5), "{ch}");
        }
    }
}
