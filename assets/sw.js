// Emoji Mirror's service worker: keeps a copy of the site so that it works offline after the first visit.
// Same-origin GET requests go to the network first (so a new deployment is picked up) and fall back to the copy.
// It never contacts another origin. Paths are relative to this file, so the site works under any sub-path.
const CACHE = "emoji-mirror-v2";
const FILES = [
  "./",
  "index.html",
  "boot.js",
  "app.js",
  "app_bg.wasm",
  "worker_loader.js",
  "worker.js",
  "worker_bg.wasm",
  "main.css",
  "manifest.webmanifest",
  "icon.svg",
  "icon-192.png",
  "icon-512.png",
  "blazeface_short_range.nnef.tar",
  "emotion_int8.nnef.tar",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(FILES.map((f) => new URL(f, self.registration.scope))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() => caches.match(request, { ignoreSearch: true }).then((hit) => hit || Promise.reject(new Error("offline")))),
  );
});
