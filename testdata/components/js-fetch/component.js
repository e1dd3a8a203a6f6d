// js-fetch: fetch() in componentize-js is wasi:http/outgoing-handler. Exports are
// synchronous; componentize-js runs the event loop until the returned promise settles.

async function get(url, headers) {
  let res;
  try {
    res = await fetch(url, { headers, redirect: 'manual' });
  } catch (err) {
    throw `fetch ${url}: ${err && err.message ? err.message : err}`;
  }
  // A body that fails mid-way (a stalled server, a dropped connection) must
  // also become a string error: anything else thrown aborts the guest.
  let body;
  try {
    body = await res.text();
  } catch (err) {
    throw `fetch ${url}: reading the body: ${err && err.message ? err.message : err}`;
  }
  if (res.status < 200 || res.status > 299) {
    throw `fetch ${url}: HTTP ${res.status}: ${body.slice(0, 200)}`;
  }
  return body;
}

export async function fetchText(url) {
  return get(url, {});
}

export async function fetchWithHeader(url, name, value) {
  return get(url, { [name]: value });
}
