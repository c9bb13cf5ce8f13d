//! The browser's camera API: open a stream (front camera by default, or a chosen one), list the cameras, stop the
//! tracks, and sort the browser's errors into the states the page shows.

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, MediaDeviceInfo, MediaDeviceKind, MediaDevices, MediaStream,
    MediaStreamConstraints,
};

use crate::dom::describe;
use crate::state::{Camera, CameraFailure};

/// The capture size asked for; the browser picks the nearest its camera has.
const IDEAL_WIDTH: u32 = 640;
const IDEAL_HEIGHT: u32 = 480;

fn media_devices() -> Result<MediaDevices, CameraFailure> {
    let navigator = web_sys::window()
        .ok_or_else(|| CameraFailure::Other("no window".into()))?
        .navigator();
    // `mediaDevices` is missing outside secure contexts (plain http on another host).
    let has = Reflect::has(&navigator, &"mediaDevices".into()).unwrap_or(false);
    if !has {
        return Err(CameraFailure::Other(
            "This browser offers no camera here (the page needs https or localhost).".into(),
        ));
    }
    navigator
        .media_devices()
        .map_err(|e| CameraFailure::Other(describe(&e)))
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &key.into(), value);
}

/// Opens the camera `device_id`, or the front ("user") camera when `None`.
pub async fn open(device_id: Option<&str>) -> Result<MediaStream, CameraFailure> {
    let devices = media_devices()?;
    let video = Object::new();
    let ideal = |v: u32| {
        let o = Object::new();
        set(&o, "ideal", &v.into());
        o
    };
    set(&video, "width", &ideal(IDEAL_WIDTH));
    set(&video, "height", &ideal(IDEAL_HEIGHT));
    match device_id {
        Some(id) => {
            let exact = Object::new();
            set(&exact, "exact", &id.into());
            set(&video, "deviceId", &exact);
        }
        None => set(&video, "facingMode", &"user".into()),
    }
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&video);
    constraints.set_audio(&false.into());
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| classify(&e))?;
    let stream = JsFuture::from(promise).await.map_err(|e| classify(&e))?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| CameraFailure::Other("getUserMedia gave no stream".into()))
}

/// The video inputs (labels are known only once permission is granted).
pub async fn list() -> Vec<Camera> {
    let Ok(devices) = media_devices() else {
        return Vec::new();
    };
    let Ok(promise) = devices.enumerate_devices() else {
        return Vec::new();
    };
    let Ok(found) = JsFuture::from(promise).await else {
        return Vec::new();
    };
    js_sys::Array::from(&found)
        .iter()
        .filter_map(|d| d.dyn_into::<MediaDeviceInfo>().ok())
        .filter(|d| d.kind() == MediaDeviceKind::Videoinput)
        .enumerate()
        .map(|(i, d)| Camera {
            id: d.device_id(),
            label: if d.label().is_empty() {
                format!("Camera {}", i + 1)
            } else {
                d.label()
            },
        })
        .collect()
}

/// The device id of the stream's video track.
pub fn device_of(stream: &MediaStream) -> Option<String> {
    let track = stream
        .get_video_tracks()
        .get(0)
        .dyn_into::<web_sys::MediaStreamTrack>()
        .ok()?;
    let get_settings = Reflect::get(&track, &"getSettings".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let settings = get_settings.call0(&track).ok()?;
    Reflect::get(&settings, &"deviceId".into())
        .ok()?
        .as_string()
}

/// Stops every track, which turns the camera (and its light) off.
pub fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// Sorts a `getUserMedia` rejection into what the page shows.
fn classify(err: &JsValue) -> CameraFailure {
    match err.dyn_ref::<DomException>().map(|e| e.name()) {
        Some(name)
            if name == "NotAllowedError"
                || name == "SecurityError"
                || name == "PermissionDeniedError" =>
        {
            CameraFailure::Denied
        }
        Some(name)
            if name == "NotFoundError"
                || name == "DevicesNotFoundError"
                || name == "OverconstrainedError" =>
        {
            CameraFailure::NoCamera
        }
        Some(name) if name == "NotReadableError" || name == "TrackStartError" => {
            CameraFailure::Other("The camera is busy: another app or tab may be using it.".into())
        }
        _ => CameraFailure::Other(describe(err)),
    }
}
