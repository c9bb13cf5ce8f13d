//! The model input from a grey face crop: the contract's contrast, histogram equalisation and
//! normalisation (x/255 - mean)/std, exactly as training does it (a parity test checks the bytes).

use image::GrayImage;

use crate::contract::Contract;

/// Contrast: v' = min(255, floor(v·alpha + 0.5)).
pub fn apply_contrast(grey: &mut GrayImage, alpha: f64) {
    let lut: Vec<u8> = (0..256)
        .map(|v| (f64::from(v) * alpha + 0.5).floor().clamp(0.0, 255.0) as u8)
        .collect();
    for p in grey.iter_mut() {
        *p = lut[*p as usize];
    }
}

/// Histogram equalisation as the contract defines it (the same in training/):
/// cdf_min = first non-zero cumulative count; constant images are left unchanged; otherwise
/// lut[v] = floor((cdf[v] - cdf_min)·255 / (total - cdf_min) + 0.5), clamped to 0..255.
pub fn equalize_histogram(grey: &mut GrayImage) {
    let mut hist = [0u64; 256];
    for &p in grey.iter() {
        hist[p as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let mut cdf = [0u64; 256];
    let mut run = 0;
    for (c, h) in cdf.iter_mut().zip(hist.iter()) {
        run += h;
        *c = run;
    }
    let Some(&cdf_min) = cdf.iter().find(|&&c| c > 0) else {
        return;
    };
    if cdf_min == total {
        return; // one grey level only
    }
    let lut: Vec<u8> = cdf
        .iter()
        .map(|&c| {
            let v = (c.saturating_sub(cdf_min)) as f64 * 255.0 / (total - cdf_min) as f64;
            (v + 0.5).floor().clamp(0.0, 255.0) as u8
        })
        .collect();
    for p in grey.iter_mut() {
        *p = lut[*p as usize];
    }
}

/// The grey image after the contract's contrast and equalisation steps (still 8-bit).
pub fn enhance(grey: &GrayImage, contract: &Contract) -> GrayImage {
    let mut g = grey.clone();
    apply_contrast(&mut g, contract.contrast_alpha);
    if contract.equalize_histogram {
        equalize_histogram(&mut g);
    }
    g
}

/// The model input for one grey face: contrast, equalise, then (x/255 - mean)/std, row-major.
pub fn face_tensor_input(grey48: &GrayImage, contract: &Contract) -> Vec<f32> {
    let g = enhance(grey48, contract);
    g.iter()
        .map(|&v| (f32::from(v) / 255.0 - contract.mean) / contract.std)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn contrast_and_equalisation_by_hand() {
        let mut g = GrayImage::from_raw(4, 1, vec![0, 10, 100, 250]).unwrap();
        apply_contrast(&mut g, 1.2);
        assert_eq!(g.as_raw(), &vec![0, 12, 120, 255]);
        // Four distinct values, one each: cdf 1,2,3,4; cdf_min 1 → 0, 85, 170, 255.
        equalize_histogram(&mut g);
        assert_eq!(g.as_raw(), &vec![0, 85, 170, 255]);
        // Counts 2,1,1 over levels 5,9,200: cdf 2,3,4 → 0, round(255/2)=128, 255.
        let mut g = GrayImage::from_raw(4, 1, vec![5, 200, 9, 5]).unwrap();
        equalize_histogram(&mut g);
        assert_eq!(g.as_raw(), &vec![0, 255, 128, 0]);
        // A flat image is left alone.
        let mut flat = GrayImage::from_pixel(3, 3, Luma([77]));
        equalize_histogram(&mut flat);
        assert!(flat.iter().all(|&v| v == 77));
    }

    #[test]
    fn the_tensor_is_normalised_with_the_contract() {
        let c = Contract::shipped();
        let g = GrayImage::from_raw(2, 1, vec![0, 255]).unwrap();
        let t = face_tensor_input(&g, c);
        assert_eq!(t.len(), 2);
        assert!((t[0] - (0.0 - c.mean) / c.std).abs() < 1e-6);
        assert!((t[1] - (1.0 - c.mean) / c.std).abs() < 1e-6);
    }
}
