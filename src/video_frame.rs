//! The camera's frames as WebCodecs `VideoFrame`s: the page wraps the video's current frame and copies its planes
//! out as they are (`copyTo`, a memcpy, no colour conversion or scaling on the page's thread); the worker makes the
//! pipeline's RGB from them ([`crate::raw_frame`]). A browser without `VideoFrame`, or a frame in a format not read
//! there, goes the canvas way instead (`camera/frame_loop.rs`).
//!
//! web-sys keeps WebCodecs behind `--cfg web_sys_unstable_apis`, so the few calls are made through `Reflect`.

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::dom::describe;
use crate::raw_frame::{Matrix, PixelFormat, Plane, RawLayout};

/// `VideoFrame`'s constructor, where the browser has one.
pub fn constructor() -> Option<Function> {
    Reflect::get(&js_sys::global(), &"VideoFrame".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

/// The current frame of `source` (the `<video>`; a canvas in tests), wrapped (it holds one of the camera's few
/// buffers until it is closed), with its layout so far (the planes are known once copied), or `None` when its format
/// is not read here (it is closed then).
pub fn wrap(
    constructor: &Function,
    source: &JsValue,
) -> Result<Option<(JsValue, RawLayout)>, String> {
    // A timestamp is required for sources other than a video (and unused here).
    let init = js_sys::Object::new();
    Reflect::set(&init, &"timestamp".into(), &0.into()).map_err(|e| describe(&e))?;
    let frame =
        Reflect::construct(constructor, &Array::of2(source, &init)).map_err(|e| describe(&e))?;
    match layout_of(&frame) {
        Some(layout) => Ok(Some((frame, layout))),
        None => {
            close(&frame);
            Ok(None)
        }
    }
}

/// Copies a wrapped frame's planes out and closes it: the bytes and their layout.
pub async fn copy(frame: JsValue, layout: RawLayout) -> Result<(RawLayout, Uint8Array), String> {
    let copied = copy_planes(&frame).await;
    close(&frame);
    let (bytes, planes) = copied?;
    Ok((RawLayout { planes, ..layout }, bytes))
}

async fn copy_planes(frame: &JsValue) -> Result<(Uint8Array, Vec<Plane>), String> {
    let size = call(frame, "allocationSize", &[])?
        .as_f64()
        .ok_or("the frame has no size")?;
    let bytes = Uint8Array::new_with_length(size as u32);
    let promise: Promise = call(frame, "copyTo", &[bytes.clone().into()])?
        .dyn_into()
        .map_err(|_| "copyTo gave no promise")?;
    let layouts: Array = JsFuture::from(promise)
        .await
        .map_err(|e| format!("copying the camera's frame: {}", describe(&e)))?
        .dyn_into()
        .map_err(|_| "copyTo gave no plane layouts")?;
    let planes = layouts
        .iter()
        .map(|p| {
            let field = |name: &str| number(&p, name).map(|v| v as u32);
            Ok(Plane {
                offset: field("offset").ok_or("a plane without offset")?,
                stride: field("stride").ok_or("a plane without stride")?,
            })
        })
        .collect::<Result<_, &str>>()?;
    Ok((bytes, planes))
}

/// Lets go of a frame's buffer.
pub fn close(frame: &JsValue) {
    let _ = call(frame, "close", &[]);
}

/// Format, colour space and visible size of a frame, if its format is read here.
fn layout_of(frame: &JsValue) -> Option<RawLayout> {
    let format = Reflect::get(frame, &"format".into()).ok()?.as_string()?;
    let format = PixelFormat::parse(&format)?;
    let rect = Reflect::get(frame, &"visibleRect".into()).ok()?;
    let colour = Reflect::get(frame, &"colorSpace".into()).ok();
    let matrix = colour
        .as_ref()
        .and_then(|c| Reflect::get(c, &"matrix".into()).ok())
        .and_then(|m| m.as_string());
    let full_range = colour
        .as_ref()
        .and_then(|c| Reflect::get(c, &"fullRange".into()).ok())
        .and_then(|f| f.as_bool())
        .unwrap_or(false);
    Some(RawLayout {
        format,
        width: number(&rect, "width")? as u32,
        height: number(&rect, "height")? as u32,
        planes: Vec::new(),
        matrix: Matrix::parse(matrix.as_deref()),
        full_range,
    })
}

fn number(object: &JsValue, name: &str) -> Option<f64> {
    Reflect::get(object, &name.into()).ok()?.as_f64()
}

fn call(object: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let function: Function = Reflect::get(object, &method.into())
        .map_err(|e| describe(&e))?
        .dyn_into()
        .map_err(|_| format!("no {method}"))?;
    function
        .apply(object, &args.iter().collect::<Array>())
        .map_err(|e| format!("{method}: {}", describe(&e)))
}
