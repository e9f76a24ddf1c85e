// The lab offline after one visit: see index.html.
const C = 'lab', PAGE = new URL('./', location).href;
const keep = (res, all) => caches.open(C).then((c) => res.clone().text().then((html) => {
  // trunk's hashed files, once each (addAll refuses duplicates).
  const urls = [...new Set(html.match(/\.\/[\w.-]*[\da-f]{8}[\w.-]*/g))].map((n) => new URL(n, PAGE).href);
  return Promise.all([c.put(PAGE, res), all && c.addAll(urls),
    c.keys().then((ks) => ks.map((k) => k.url == PAGE || urls.includes(k.url) || c.delete(k)))]);
}));
addEventListener('install', (e) => {
  skipWaiting();
  e.waitUntil(fetch(PAGE).then((res) => res.ok && keep(res, 1)));
});
addEventListener('activate', (e) => e.waitUntil(caches.keys()
  .then((ks) => Promise.all(ks.map((k) => k == C || caches.delete(k)))).then(() => clients.claim())));
addEventListener('fetch', (e) => {
  const r = e.request, nav = r.mode == 'navigate';
  if (r.method != 'GET' || !r.url.startsWith(PAGE)) return;
  const save = (res) => {
    const copy = res.clone();
    if (res.ok) e.waitUntil(nav ? keep(copy) : caches.open(C).then((c) => c.put(r, copy)));
    return res;
  };
  e.respondWith(nav
    ? fetch(r).then(save, () => caches.match(PAGE).then((m) => m || Response.error()))
    : caches.match(r).then((m) => m || fetch(r).then(save)));
});
