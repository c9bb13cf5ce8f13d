//! Boxes in frame pixels and the overlap measure shared by NMS and the tracker.

use serde::{Deserialize, Serialize};

/// The size of a `width` x `height` picture scaled down (never up) so that its longer side is at most `max_side`.
pub fn fit_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let scale = (f64::from(max_side) / f64::from(width.max(height).max(1))).min(1.0);
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    (side(width), side(height))
}

/// An axis-aligned box in pixels: top-left corner (`x`, `y`), width `w`, height `h`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BoxF {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl BoxF {
    /// A box from its corners.
    pub fn from_corners(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        BoxF {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }

    /// Centre point.
    pub fn center(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// Area (0 for degenerate boxes).
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// Intersection over union, 0 when either box is empty.
    pub fn iou(&self, other: &BoxF) -> f32 {
        let ix = (self.x + self.w).min(other.x + other.w) - self.x.max(other.x);
        let iy = (self.y + self.h).min(other.y + other.h) - self.y.max(other.y);
        if ix <= 0.0 || iy <= 0.0 {
            return 0.0;
        }
        let inter = ix * iy;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_by_hand() {
        let a = BoxF {
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        // Same box.
        assert_eq!(a.iou(&a), 1.0);
        // Half overlap along x: inter 50, union 150.
        let b = BoxF {
            x: 5.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        // Quarter box inside: inter 25, union 100.
        let c = BoxF {
            x: 0.0,
            y: 0.0,
            w: 5.0,
            h: 5.0,
        };
        assert!((a.iou(&c) - 0.25).abs() < 1e-6);
        // Corner overlap 2x3=6, union 100+100-6=194.
        let d = BoxF {
            x: 8.0,
            y: 7.0,
            w: 10.0,
            h: 10.0,
        };
        assert!((a.iou(&d) - 6.0 / 194.0).abs() < 1e-6);
        // Touching and disjoint boxes, empty box.
        assert_eq!(
            a.iou(&BoxF {
                x: 10.0,
                y: 0.0,
                w: 5.0,
                h: 5.0
            }),
            0.0
        );
        assert_eq!(
            a.iou(&BoxF {
                x: 50.0,
                y: 50.0,
                w: 5.0,
                h: 5.0
            }),
            0.0
        );
        assert_eq!(a.iou(&BoxF::default()), 0.0);
        // Symmetric.
        assert_eq!(a.iou(&d), d.iou(&a));
    }

    #[test]
    fn corners_and_centre() {
        let b = BoxF::from_corners(2.0, 4.0, 12.0, 8.0);
        assert_eq!(
            b,
            BoxF {
                x: 2.0,
                y: 4.0,
                w: 10.0,
                h: 4.0
            }
        );
        assert_eq!(b.center(), (7.0, 6.0));
        assert_eq!(b.area(), 40.0);
    }
}
