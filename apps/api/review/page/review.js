// The reviewer page: plain JavaScript in the browser, no build step. It keeps the reviewer token
// in sessionStorage, polls the API for flagged snippets and the status of their extended clips,
// plays a ready clip from its signed URL with the flagged snippet's moment marked on a bar under
// the player, and requests clips of any recording by time range.
'use strict';
(function () {
  const POLL_MS = 3000;
  const $ = (id) => document.getElementById(id);
  const clips = new Map(); // clipId -> last GET /v1/clips/{id} answer
  let timer;

  const token = () => sessionStorage.getItem('tapedeck.reviewerToken');

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = { error: { code: 'not_json', message: text.slice(0, 200) } }; }
    if (res.status === 401 || res.status === 403) { signOut(`token refused (${res.status}): ${json.error && json.error.message}`); throw new Error('unauthorised'); }
    return { status: res.status, body: json };
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }

  async function clipStatus(clipId) {
    const known = clips.get(clipId);
    if (known && (known.status === 'ready' || known.status === 'failed') && known.signedUrl !== undefined) {
      // signed URLs expire: ask again shortly before
      if (!known.expiresAt || Date.parse(known.expiresAt) - Date.now() > 60_000) return known;
    }
    const r = await api('GET', `/v1/clips/${encodeURIComponent(clipId)}`);
    const value = r.status === 200 ? r.body : { status: 'unknown', error: (r.body.error && r.body.error.message) || `HTTP ${r.status}` };
    clips.set(clipId, value);
    return value;
  }

  // One clip's status line and, once ready, its player. `moment` = [start, end] of what to mark.
  function renderClip(container, clipId, clip, range, moment) {
    const key = `${clipId}|${clip.status}|${clip.signedUrl || ''}`;
    if (container.dataset.key === key) return; // unchanged: keep the player as it is (playing)
    container.dataset.key = key;
    container.replaceChildren();
    const line = el('p', { class: 'clip-status' }, `clip ${clipId}: `, el('span', { class: 'state', text: clip.status }));
    if (clip.durationMs) line.append(` · ${(clip.durationMs / 1000).toFixed(1)} s`);
    if (clip.error) line.append(el('span', { class: 'error', text: ` · ${typeof clip.error === 'string' ? clip.error : JSON.stringify(clip.error)}` }));
    container.append(line);
    if (clip.status !== 'ready' || !clip.signedUrl) return;
    const video = el('video', { controls: '', preload: 'auto', src: clip.signedUrl, 'data-clip-id': clipId });
    const bar = el('div', { class: 'timeline', title: 'the flagged snippet within the clip' });
    const player = el('div', { class: 'player' }, video, bar);
    container.append(player);
    if (moment) {
      // a clip that is not `precise` is made of whole snippets: it starts where its first one does
      const first = !clip.precise && clip.snippets && clip.snippets[0];
      const start = Date.parse(first ? first.startTime : clip.start || range[0]);
      const total = clip.durationMs || Date.parse(clip.end || range[1]) - start;
      const from = Math.max(0, Date.parse(moment[0]) - start);
      const to = Math.min(total, Date.parse(moment[1]) - start);
      if (total > 0 && to > from) {
        const mark = el('div', { class: 'moment' });
        mark.style.left = `${(100 * from) / total}%`;
        mark.style.width = `${(100 * (to - from)) / total}%`;
        bar.append(mark);
        const jump = el('button', { type: 'button', text: `jump to the flagged moment (${(from / 1000).toFixed(1)} s)` });
        jump.addEventListener('click', () => { video.currentTime = from / 1000; void video.play(); });
        container.append(jump);
      }
    }
  }

  function renderFlagged(list) {
    const ol = $('flagged');
    $('empty').hidden = list.length > 0;
    const seen = new Set();
    for (const f of list) {
      seen.add(f.snippetId);
      let li = ol.querySelector(`li[data-snippet-id="${f.snippetId}"]`);
      if (!li) {
        li = el('li', { class: 'item', 'data-snippet-id': f.snippetId });
        const who = f.kind === 'composite' ? 'composite' : `host ${f.hostId}`;
        li.append(
          el('div', {}, el('span', { class: 'score', text: `score ${f.score}` }), ` · ${f.livestreamId} · ${who} · snippet #${f.sequence} · ${f.startTime} → ${f.endTime}`),
          el('ul', { class: 'reasons' }, ...f.reasons.map((r) => el('li', { text: r }))),
          el('div', { class: 'clip' }),
        );
      }
      ol.append(li); // keeps the order of the answer (newest first)
    }
    for (const li of [...ol.children]) if (!seen.has(li.dataset.snippetId)) li.remove();
    return Promise.all(list.map(async (f) => {
      const box = ol.querySelector(`li[data-snippet-id="${f.snippetId}"] .clip`);
      if (!f.clip) return;
      if (!f.clip.clipId) {
        box.replaceChildren(el('p', { class: 'error', text: `clip not requested: ${f.clip.error || 'unknown'}` }));
        return;
      }
      renderClip(box, f.clip.clipId, await clipStatus(f.clip.clipId), [f.clip.start, f.clip.end], [f.startTime, f.endTime]);
    }));
  }

  async function refreshRequested() {
    for (const li of $('requested').children) {
      const c = clips.get(li.dataset.clipId);
      if (c && c.status === 'ready' && li.querySelector('video')) continue;
      renderClip(li, li.dataset.clipId, await clipStatus(li.dataset.clipId), [li.dataset.start, li.dataset.end], null);
    }
  }

  async function poll() {
    clearTimeout(timer);
    try {
      const filter = $('filter').value.trim();
      const r = await api('GET', `/v1/review/flagged${filter ? `?livestreamId=${encodeURIComponent(filter)}` : ''}`);
      if (r.status !== 200) throw new Error((r.body.error && r.body.error.message) || `HTTP ${r.status}`);
      await renderFlagged(r.body.flagged);
      await refreshRequested();
      $('status').textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      if (e.message === 'unauthorised') return;
      $('status').textContent = `could not update: ${e.message}`;
    }
    timer = setTimeout(poll, POLL_MS);
  }

  async function requestClip(ev) {
    ev.preventDefault();
    const form = new FormData(ev.target);
    const recording = String(form.get('recording')).trim();
    const body = {
      livestreamId: String(form.get('livestreamId')).trim(),
      recording: recording === 'composite' ? 'composite' : { hostId: recording },
      start: String(form.get('start')).trim(),
      end: String(form.get('end')).trim(),
      requestedBy: 'reviewer-page',
    };
    const reason = String(form.get('reason') || '').trim();
    if (reason) body.reason = reason;
    const out = $('clip-form-result');
    try {
      const r = await api('POST', '/v1/clips', body);
      if (r.status !== 202 && r.status !== 200 && r.status !== 201) {
        out.className = 'error';
        out.textContent = `refused (${r.status}): ${r.body.error ? r.body.error.message : JSON.stringify(r.body)}`;
        return;
      }
      out.className = '';
      out.textContent = `clip ${r.body.clipId} requested`;
      if (!$('requested').querySelector(`li[data-clip-id="${r.body.clipId}"]`)) {
        $('requested').prepend(el('li', { class: 'item', 'data-clip-id': r.body.clipId, 'data-start': body.start, 'data-end': body.end }));
      }
      await refreshRequested();
    } catch (e) {
      if (e.message !== 'unauthorised') { out.className = 'error'; out.textContent = `could not request: ${e.message}`; }
    }
  }

  function signOut(message) {
    sessionStorage.removeItem('tapedeck.reviewerToken');
    clearTimeout(timer);
    $('app').hidden = true;
    $('signout').hidden = true;
    $('signin').hidden = false;
    $('status').textContent = message || 'not signed in';
  }

  function signedIn() {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
    void poll();
  }

  $('signin').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem('tapedeck.reviewerToken', $('token').value.trim());
    $('token').value = '';
    signedIn();
  });
  $('signout').addEventListener('click', () => signOut());
  $('clip-form').addEventListener('submit', requestClip);
  $('filter').addEventListener('change', () => void poll());
  if (token()) signedIn(); else signOut();
})();
