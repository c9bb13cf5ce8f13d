// Starts the page's WebAssembly (a file, not an inline script, so that the Content Security Policy can forbid those).
import init from "./app.js";
await init({ module_or_path: new URL("app_bg.wasm", import.meta.url) });
