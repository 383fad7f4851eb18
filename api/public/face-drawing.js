// What the try-it page draws for the faces of one frame: boxes, landmarks, labels, attributes and crops.

const LANDMARKS = [
  { name: 'left eye', color: '#00b4ff' },
  { name: 'right eye', color: '#ff3df5' },
  { name: 'nose tip', color: '#ffe600' },
  { name: 'mouth centre', color: '#ff7a00' },
  { name: 'left mouth corner', color: '#00e676' },
  { name: 'right mouth corner', color: '#ff1744' },
];
const FACE_COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324'];
const SVG_NS = 'http://www.w3.org/2000/svg';

/** Pose and quality per face, one row each, in the answer's order. */
export function attributeTable(faces) {
  const table = element('table', { class: 'attributes' });
  const head = element('tr');
  for (const name of ['face', 'score', 'yaw', 'pitch', 'roll', 'sharpness', 'brightness'])
    head.append(element('th', { scope: 'col' }, name));
  table.append(head);
  faces.region.forEach((_, i) => {
    const { yaw, pitch, roll } = faces.pose[i];
    const { sharpness, brightness } = faces.quality[i];
    const row = element('tr', { 'data-face-id': faces.face_ids[i] });
    const cells = [
      `#${faces.face_ids[i]}`,
      faces.scores[i].toFixed(2),
      `${yaw.toFixed(0)}°`,
      `${pitch.toFixed(0)}°`,
      `${roll.toFixed(0)}°`,
      sharpness.toFixed(2),
      brightness.toFixed(2),
    ];
    for (const text of cells) row.append(element('td', {}, text));
    table.append(row);
  });
  return table;
}

/** What a face's box says on hover. */
function describeFace(faces, i) {
  const { yaw, pitch, roll } = faces.pose[i];
  const { sharpness, brightness } = faces.quality[i];
  return `#${faces.face_ids[i]} score ${faces.scores[i].toFixed(2)} · yaw ${yaw.toFixed(0)}° pitch ${pitch.toFixed(0)}° roll ${roll.toFixed(0)}° · sharpness ${sharpness.toFixed(2)} brightness ${brightness.toFixed(2)}`;
}

/**
 * Boxes, labels and landmarks in the picture's own pixels; the viewBox scales them with the picture.
 * `magnify` enlarges labels and dots for pictures shown as small thumbnails.
 */
export function overlay(faces, width, height, magnify) {
  const svg = svgElement('svg', {
    class: 'overlay',
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: 'none',
    'aria-hidden': 'true',
  });
  const unit = (Math.max(width, height) / 100) * magnify;
  faces.region.forEach(([x, y, w, h], i) => {
    const id = faces.face_ids[i];
    const color = faceColor(id);
    const score = faces.scores[i];
    const rect = svgElement('rect', {
      x,
      y,
      width: w,
      height: h,
      fill: 'none',
      stroke: color,
      'stroke-width': 3,
      'vector-effect': 'non-scaling-stroke',
      'pointer-events': 'all',
      'data-face-id': id,
      'data-score': score,
    });
    const title = svgElement('title', {});
    title.textContent = describeFace(faces, i);
    rect.append(title);
    svg.append(rect);
    const label = svgElement('text', {
      x,
      y: y > 3 * unit ? y - 0.6 * unit : y + h + 2.4 * unit,
      fill: color,
      'font-size': 2.2 * unit,
      class: 'label',
    });
    label.textContent = `#${id} ${score.toFixed(2)}`;
    svg.append(label);
    (faces.landmarks[i] ?? []).forEach(([lx, ly], k) =>
      svg.append(
        svgElement('circle', {
          cx: lx,
          cy: ly,
          r: 0.6 * unit,
          fill: LANDMARKS[k]?.color ?? '#fff',
          stroke: '#000',
          'stroke-width': 1,
          'vector-effect': 'non-scaling-stroke',
          'data-landmark': LANDMARKS[k]?.name ?? k,
        }),
      ),
    );
  });
  return svg;
}

export function crops(faces) {
  const strip = element('div', { class: 'crops' });
  faces.face_urls.forEach((url, i) => {
    const img = element('img', {
      src: url,
      alt: `face #${faces.face_ids[i]}`,
      loading: 'lazy',
      class: 'crop',
    });
    img.style.setProperty('--face-color', faceColor(faces.face_ids[i]));
    strip.append(img);
  });
  return strip;
}

/** The legend's entries: one swatch per landmark, and a note on the boxes. */
export function legendItems() {
  return [
    ...LANDMARKS.map(({ name, color }) => {
      const item = element('li');
      const swatch = svgElement('svg', { viewBox: '0 0 10 10', class: 'swatch', 'aria-hidden': 'true' });
      swatch.append(svgElement('circle', { cx: 5, cy: 5, r: 4, fill: color, stroke: '#000' }));
      item.append(swatch, name);
      return item;
    }),
    element('li', { class: 'note' }, 'Boxes: one colour per face id, with its score.'),
  ];
}

export function faceColor(id) {
  return FACE_COLORS[id % FACE_COLORS.length];
}

export function line(text, className) {
  return element('div', className ? { class: className } : {}, text);
}

export function element(tag, attributes = {}, text) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

export function svgElement(tag, attributes) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, String(value));
  return el;
}
