// SPN web demo page: paint a mask over a photo, send it to /api/inpaint.
// The mask canvas has the photo's full resolution; strokes are drawn
// anti-aliased, and the mask that is sent is binarised (alpha >= 128 = hole).
// window.spnApp exposes the state and the last mask sent (for tests).
'use strict';

const $ = (id) => document.getElementById(id);
const app = window.spnApp = {
  state: 'loading',      // loading | ready | busy | done | error
  health: null,
  imageFile: null,
  width: 0,
  height: 0,
  actions: [],           // strokes and uploaded masks, replayed on undo
  tool: 'brush',
  lastMaskDataURL: null, // the binarised mask PNG of the last request
  lastMaskHoles: 0,
  results: [],           // data URLs of the last results
  lastError: null,
};
const photoCanvas = $('photo-canvas');
const maskCanvas = $('mask-canvas');
const maskCtx = maskCanvas.getContext('2d');
const HOLE_COLOUR = '#ff1744';

function showError(message) {
  app.lastError = message;
  $('error').textContent = message;
  $('error').hidden = false;
}

function clearError() {
  app.lastError = null;
  $('error').hidden = true;
  $('error').textContent = '';
}

function setStatus(text, busy) {
  $('status').textContent = text;
  $('status').classList.toggle('busy', !!busy);
}

function mb(n) { return (n / 1048576).toFixed(1) + ' MB'; }

// ------------------------------------------------------------------ health
async function loadHealth() {
  try {
    const r = await fetch('/api/health');
    const h = await r.json();
    app.health = h;
    $('model-info').textContent =
      `${h.model} - ${h.variant === 'prob' ? 'probabilistic' : 'deterministic'}` +
      `, ${h.device}, ${h.precision}`;
    $('hd-strategy').value = h.default_hd_strategy;
    if (h.variant === 'prob') {
      $('sampling').hidden = false;
      $('num-samples').max = h.limits.max_samples;
      $('num-samples').value = Math.min(3, h.limits.max_samples);
    }
    app.state = 'ready';
    setStatus('Choose a photo, paint the part to fill, press Inpaint.');
  } catch (e) {
    app.state = 'error';
    showError('server: cannot reach /api/health; is tools/web_demo.py running?');
  }
}

// ------------------------------------------------------------------ loading
function decodeFile(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('unreadable')); };
    img.src = url;
  });
}

function checkSize(file, field) {
  const limit = app.health ? app.health.limits.max_upload_bytes : Infinity;
  if (file.size > limit) {
    throw new Error(`${field}: file of ${mb(file.size)} is over the ${mb(limit)} upload limit`);
  }
}

async function onImageChosen() {
  clearError();
  const file = $('image-file').files[0];
  if (!file) return;
  let img;
  try {
    checkSize(file, 'image');
    img = await decodeFile(file).catch(() => {
      throw new Error('image: not a readable image; expected a PNG/JPEG/WebP/BMP file');
    });
    const px = img.naturalWidth * img.naturalHeight;
    const limit = app.health ? app.health.limits.max_image_pixels : Infinity;
    if (px > limit) {
      throw new Error(`image: ${img.naturalWidth}x${img.naturalHeight} = ${px.toLocaleString('en')} ` +
        `pixels is over the limit of ${limit.toLocaleString('en')} pixels`);
    }
  } catch (e) {
    showError(e.message);
    $('image-file').value = '';
    return;
  }
  app.imageFile = file;
  app.width = img.naturalWidth;
  app.height = img.naturalHeight;
  for (const c of [photoCanvas, maskCanvas]) { c.width = app.width; c.height = app.height; }
  photoCanvas.getContext('2d').drawImage(img, 0, 0);
  app.actions = [];
  redraw();
  $('stage').classList.remove('empty');
  $('after').hidden = true;
  $('results').textContent = '';
  app.imageLoaded = true;
  setStatus(`Photo ${app.width}x${app.height}: paint over what to remove.`);
}

async function onMaskChosen() {
  clearError();
  const file = $('mask-file').files[0];
  if (!file) return;
  try {
    if (!app.imageFile) throw new Error('mask: choose the photo first');
    checkSize(file, 'mask');
    const img = await decodeFile(file).catch(() => {
      throw new Error('mask: not a readable image; expected a white-on-black PNG');
    });
    if (img.naturalWidth !== app.width || img.naturalHeight !== app.height) {
      throw new Error(`mask: size ${img.naturalWidth}x${img.naturalHeight} differs from the ` +
        `photo (${app.width}x${app.height}); expected a mask of the same size`);
    }
    const tmp = document.createElement('canvas');
    tmp.width = app.width; tmp.height = app.height;
    const ctx = tmp.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, app.width, app.height);
    const p = d.data;
    for (let i = 0; i < p.length; i += 4) {
      const hole = (p[i] + p[i + 1] + p[i + 2]) / 3 >= 128;
      p[i] = 255; p[i + 1] = 23; p[i + 2] = 68; p[i + 3] = hole ? 255 : 0;
    }
    ctx.putImageData(d, 0, 0);
    app.actions.push({ type: 'mask', canvas: tmp });
    redraw();
  } catch (e) {
    showError(e.message);
  } finally {
    $('mask-file').value = '';
  }
}

// ------------------------------------------------------------------ painting
function redraw() {
  maskCtx.globalCompositeOperation = 'source-over';
  maskCtx.clearRect(0, 0, maskCanvas.width, maskCanvas.height);
  for (const a of app.actions) {
    if (a.type === 'mask') {
      maskCtx.globalCompositeOperation = 'source-over';
      maskCtx.clearRect(0, 0, maskCanvas.width, maskCanvas.height);
      maskCtx.drawImage(a.canvas, 0, 0);
    } else {
      drawStroke(a);
    }
  }
  maskCtx.globalCompositeOperation = 'source-over';
}

function drawStroke(s) {
  maskCtx.globalCompositeOperation = s.erase ? 'destination-out' : 'source-over';
  maskCtx.strokeStyle = HOLE_COLOUR;
  maskCtx.fillStyle = HOLE_COLOUR;
  maskCtx.lineWidth = s.size;
  maskCtx.lineCap = 'round';
  maskCtx.lineJoin = 'round';
  const pts = s.points;
  if (pts.length === 1) {
    maskCtx.beginPath();
    maskCtx.arc(pts[0][0], pts[0][1], s.size / 2, 0, 2 * Math.PI);
    maskCtx.fill();
    return;
  }
  maskCtx.beginPath();
  maskCtx.moveTo(pts[0][0], pts[0][1]);
  for (let i = 1; i < pts.length; i++) maskCtx.lineTo(pts[i][0], pts[i][1]);
  maskCtx.stroke();
}

function toImage(e) {
  const r = maskCanvas.getBoundingClientRect();
  return [(e.clientX - r.left) * maskCanvas.width / r.width,
          (e.clientY - r.top) * maskCanvas.height / r.height];
}

let stroke = null;
maskCanvas.addEventListener('pointerdown', (e) => {
  if (!app.imageFile || app.state === 'busy') return;
  maskCanvas.setPointerCapture(e.pointerId);
  const scale = maskCanvas.width / maskCanvas.getBoundingClientRect().width;
  stroke = { type: 'stroke', erase: app.tool === 'eraser',
             size: Math.max(1, Number($('brush-size').value) * scale), points: [toImage(e)] };
  app.actions.push(stroke);
  redraw();
});
maskCanvas.addEventListener('pointermove', (e) => {
  if (!stroke) return;
  stroke.points.push(toImage(e));
  redraw();
});
for (const ev of ['pointerup', 'pointercancel']) {
  maskCanvas.addEventListener(ev, () => { stroke = null; });
}

function selectTool(tool) {
  app.tool = tool;
  for (const t of ['brush', 'eraser']) {
    $('tool-' + t).classList.toggle('active', t === tool);
    $('tool-' + t).setAttribute('aria-pressed', String(t === tool));
  }
}

// ------------------------------------------------------------------ the mask sent
function binarisedMask() {
  const w = maskCanvas.width, h = maskCanvas.height;
  const src = maskCtx.getImageData(0, 0, w, h).data;
  const out = document.createElement('canvas');
  out.width = w; out.height = h;
  const ctx = out.getContext('2d');
  const d = ctx.createImageData(w, h);
  let holes = 0;
  for (let i = 0; i < src.length; i += 4) {
    const v = src[i + 3] >= 128 ? 255 : 0;
    holes += v ? 1 : 0;
    d.data[i] = d.data[i + 1] = d.data[i + 2] = v;
    d.data[i + 3] = 255;
  }
  ctx.putImageData(d, 0, 0);
  return { canvas: out, holes };
}

function stem(name) { return name.replace(/\.[^.]*$/, '') || 'photo'; }

async function inpaint() {
  clearError();
  if (app.state === 'busy') return;
  if (!app.imageFile) { showError('image: choose a photo first'); return; }
  const mask = binarisedMask();
  if (!mask.holes) {
    showError('mask: nothing to fill; paint over (or upload a mask of) the part to remove');
    return;
  }
  const maskBlob = await new Promise((res) => mask.canvas.toBlob(res, 'image/png'));
  app.lastMaskDataURL = mask.canvas.toDataURL('image/png');
  app.lastMaskHoles = mask.holes;
  const form = new FormData();
  form.append('image', app.imageFile, app.imageFile.name);
  form.append('mask', maskBlob, 'mask.png');
  form.append('hd_strategy', $('hd-strategy').value);
  form.append('format', 'json');
  const prob = app.health && app.health.variant === 'prob';
  if (prob) {
    form.append('num_samples', $('num-samples').value || '1');
    if ($('seed').value !== '') form.append('seed', $('seed').value);
  }
  app.state = 'busy';
  $('inpaint').disabled = true;
  const t0 = performance.now();
  const tick = () => setStatus(
    `Inpainting ${mask.holes.toLocaleString('en')} hole pixels… ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s`, true);
  tick();
  const timer = setInterval(tick, 200);
  try {
    const r = await fetch('/api/inpaint', { method: 'POST', body: form });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      throw new Error((body && body.error) || `server: HTTP ${r.status}`);
    }
    await showResults(body);
    app.state = 'done';
    const seed = body.seed !== null && body.seed !== undefined ? `, seed ${body.seed}` : '';
    setStatus(`Done in ${body.seconds.toFixed(2)} s (HD strategy ${body.hd_strategy}${seed}).` +
      (body.warnings.length ? ' Note: ' + body.warnings.join('; ') : ''));
  } catch (e) {
    app.state = 'error';
    setStatus('');
    showError(e.message === 'Failed to fetch' ? 'server: no answer (is it still running?)' : e.message);
  } finally {
    clearInterval(timer);
    $('inpaint').disabled = false;
  }
}

function dataURLToBlob(url) {
  const bin = atob(url.slice(url.indexOf(',') + 1));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: 'image/png' });
}

async function showResults(body) {
  const box = $('results');
  box.textContent = '';
  app.results = body.images;
  const many = body.images.length > 1;
  for (let k = 0; k < body.images.length; k++) {
    const blob = dataURLToBlob(body.images[k]);
    const fig = document.createElement('div');
    fig.className = 'result';
    const img = document.createElement('img');
    img.src = body.images[k];
    img.alt = many ? `sample ${k}` : 'inpainted result';
    const a = document.createElement('a');
    a.id = 'download-' + k;
    a.href = URL.createObjectURL(blob);
    a.download = `${stem(app.imageFile.name)}_inpainted${many ? '_sample' + k : ''}.png`;
    a.textContent = many ? `Download sample ${k} (PNG)` : 'Download PNG';
    fig.append(img, a);
    box.append(fig);
  }
  $('after').hidden = false;
}

// ------------------------------------------------------------------ wiring
$('image-file').addEventListener('change', onImageChosen);
$('mask-file').addEventListener('change', onMaskChosen);
$('tool-brush').addEventListener('click', () => selectTool('brush'));
$('tool-eraser').addEventListener('click', () => selectTool('eraser'));
$('brush-size').addEventListener('input', () => {
  $('brush-size-value').textContent = $('brush-size').value;
});
$('undo').addEventListener('click', () => { app.actions.pop(); redraw(); });
$('clear').addEventListener('click', () => { app.actions = []; redraw(); });
$('inpaint').addEventListener('click', inpaint);
loadHealth();
