//! Drawing on canvases: boxes and emoji pictures over the live view or a photo, the mirrored snapshot, the photo
//! itself; scaling a picture for the worker, reading a canvas' pixels, and saving a canvas as a PNG file.

use js_sys::{Reflect, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::artwork::{self, Pictures};
use crate::dom::describe;
use crate::state::Report;

/// The 2D context of a canvas; `will_read_frequently` keeps it on the CPU for `getImageData`.
pub fn context_2d(
    canvas: &HtmlCanvasElement,
    will_read_frequently: bool,
) -> Result<CanvasRenderingContext2d, String> {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(
        &options,
        &"willReadFrequently".into(),
        &will_read_frequently.into(),
    )
    .map_err(|_| "canvas options".to_string())?;
    canvas
        .get_context_with_context_options("2d", &options)
        .map_err(|e| describe(&e))?
        .ok_or_else(|| "this browser has no 2D canvas".to_string())?
        .dyn_into::<CanvasRenderingContext2d>()
        .map_err(|_| "not a 2D canvas context".to_string())
}

/// Draws a box and an emoji picture per face of `report` onto `ctx` (a canvas of `width` x `height` showing the same
/// frame scaled): the face's picture of `pictures`, or its text emoji while that picture is not loaded yet. With
/// `mirrored` the x axis is flipped, to sit over a mirrored video; the emojis themselves stay upright.
pub fn faces(
    ctx: &CanvasRenderingContext2d,
    width: f64,
    height: f64,
    report: &Report,
    pictures: &Pictures,
    mirrored: bool,
) {
    if report.width == 0 || report.height == 0 {
        return;
    }
    let sx = width / f64::from(report.width);
    let sy = height / f64::from(report.height);
    let line = (width / 240.0).max(2.0);
    let main = report.main_face().map(|f| f.id);
    for face in &report.faces {
        let w = f64::from(face.w) * sx;
        let h = f64::from(face.h) * sy;
        let x = if mirrored {
            width - (f64::from(face.x) * sx + w)
        } else {
            f64::from(face.x) * sx
        };
        let y = f64::from(face.y) * sy;
        ctx.set_line_width(if Some(face.id) == main {
            line * 1.5
        } else {
            line
        });
        ctx.set_stroke_style_str("rgba(0, 0, 0, 0.55)");
        ctx.stroke_rect(x - line / 2.0, y - line / 2.0, w + line, h + line);
        ctx.set_stroke_style_str("#ffd23f");
        ctx.stroke_rect(x, y, w, h);
        let size = (w * 0.42).clamp(18.0, 160.0);
        // Centred above the box when there is room, else inside its top edge.
        let cx = x + w / 2.0;
        let top = if y - size * 1.1 > 0.0 {
            y - line * 2.0 - size
        } else {
            y + line * 2.0
        };
        let name = artwork::of_face(face);
        if let Some(picture) = pictures.ready(name) {
            let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(
                picture,
                cx - size / 2.0,
                top,
                size,
                size,
            );
        } else {
            ctx.set_font(&format!("{size:.0}px 'Noto Color Emoji', 'Apple Color Emoji', 'Segoe UI Emoji', system-ui, sans-serif"));
            ctx.set_text_align("center");
            ctx.set_text_baseline("top");
            let _ = ctx.fill_text(artwork::text(name, &face.emoji), cx, top);
        }
    }
}

/// Clears a canvas.
pub fn clear(ctx: &CanvasRenderingContext2d, width: f64, height: f64) {
    ctx.clear_rect(0.0, 0.0, width, height);
}

/// Draws `source` (a video or image, `width` x `height`) onto `ctx`, flipped left-right when `mirrored`.
pub fn frame(
    ctx: &CanvasRenderingContext2d,
    source: &JsValue,
    width: f64,
    height: f64,
    mirrored: bool,
) -> Result<(), String> {
    ctx.save();
    if mirrored {
        ctx.translate(width, 0.0).map_err(|e| describe(&e))?;
        ctx.scale(-1.0, 1.0).map_err(|e| describe(&e))?;
    }
    let result = if let Some(video) = source.dyn_ref::<web_sys::HtmlVideoElement>() {
        ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, width, height)
    } else if let Some(canvas) = source.dyn_ref::<HtmlCanvasElement>() {
        ctx.draw_image_with_html_canvas_element_and_dw_and_dh(canvas, 0.0, 0.0, width, height)
    } else if let Some(image) = source.dyn_ref::<web_sys::HtmlImageElement>() {
        ctx.draw_image_with_html_image_element_and_dw_and_dh(image, 0.0, 0.0, width, height)
    } else {
        Err(JsValue::from_str("nothing drawable"))
    };
    ctx.restore();
    result.map_err(|e| describe(&e))
}

/// The size of a `width` x `height` picture scaled down (never up) so that its longer side is at most `max_side`.
pub fn fit_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let scale = (f64::from(max_side) / f64::from(width.max(height).max(1))).min(1.0);
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    (side(width), side(height))
}

/// The canvas' RGBA bytes, as a typed array whose buffer can be transferred to the worker without a copy.
pub fn pixels(
    ctx: &CanvasRenderingContext2d,
    width: u32,
    height: u32,
) -> Result<Uint8Array, String> {
    let image = ctx
        .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
        .map_err(|e| describe(&e))?;
    let data: Uint8ClampedArray = Reflect::get(&image, &"data".into())
        .map_err(|e| describe(&e))?
        .dyn_into()
        .map_err(|_| "no pixel data")?;
    Ok(Uint8Array::new(&data.buffer()))
}

/// Saves a canvas as the PNG file `name` (the browser's download).
pub fn save_png(canvas: &HtmlCanvasElement, name: &'static str) -> Result<(), String> {
    let on_blob = Closure::once_into_js(move |blob: Option<web_sys::Blob>| {
        let Some(blob) = blob else { return };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        let document = web_sys::window().and_then(|w| w.document());
        if let Some(a) = document
            .and_then(|d| d.create_element("a").ok())
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        {
            a.set_href(&url);
            a.set_download(name);
            a.click();
        }
        let revoke = Closure::once_into_js(move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                revoke.unchecked_ref(),
                10_000,
            );
        }
    });
    canvas
        .to_blob_with_type(on_blob.unchecked_ref(), "image/png")
        .map_err(|e| describe(&e))
}

#[cfg(test)]
mod tests {
    use super::fit_within;

    #[test]
    fn pictures_are_scaled_down_to_the_longer_side_never_up() {
        assert_eq!(fit_within(640, 480, 320), (320, 240));
        assert_eq!(fit_within(480, 640, 320), (240, 320));
        assert_eq!(fit_within(200, 100, 320), (200, 100));
        assert_eq!(fit_within(1001, 3, 100), (100, 1));
    }
}
