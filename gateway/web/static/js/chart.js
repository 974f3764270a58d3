// Charts drawn as inline SVG (no library, no CDN): horizontal bars per group, and a line over time.
// The table next to a chart holds the same numbers for screen readers; the SVG gets a short summary as its name.

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 720;

function svgEl(tag, attributes = {}, text) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function figure(svg, caption) {
  const out = document.createElement("figure");
  out.className = "chart";
  const id = `chart-${Math.random().toString(36).slice(2, 9)}`;
  const figcaption = document.createElement("figcaption");
  figcaption.className = "muted small";
  figcaption.id = id;
  figcaption.textContent = caption;
  svg.setAttribute("aria-labelledby", id);
  out.append(svg, figcaption);
  return out;
}

/** Bars, one per [label, value]; `format` writes a value. */
export function barChart(items, { caption, format, limit = 15 }) {
  const shown = items.slice(0, limit);
  const rowHeight = 26;
  const labelWidth = 200;
  const height = shown.length * rowHeight + 10;
  const max = Math.max(...shown.map(([, value]) => value), 1);
  const svg = svgEl("svg", {
    class: "report-chart bars",
    viewBox: `0 0 ${WIDTH} ${height}`,
    role: "img",
    "data-testid": "bar-chart",
  });
  shown.forEach(([label, value], index) => {
    const y = 5 + index * rowHeight;
    const width = Math.max(1, ((WIDTH - labelWidth - 80) * value) / max);
    const name = svgEl("text", { x: labelWidth - 8, y: y + 16, "text-anchor": "end" }, truncate(label, 28));
    name.append(svgEl("title", {}, label));
    const bar = svgEl("rect", { class: "bar", x: labelWidth, y: y + 3, width, height: rowHeight - 8, rx: 3 });
    bar.append(svgEl("title", {}, `${label}: ${format(value)}`));
    svg.append(name, bar, svgEl("text", { x: labelWidth + width + 6, y: y + 16 }, format(value)));
  });
  const more = items.length > shown.length ? ` (the ${shown.length} largest of ${items.length})` : "";
  return figure(svg, `${caption}${more}`);
}

/** A line through [label, value] points in the given order (time). */
export function lineChart(points, { caption, format }) {
  const height = 180;
  const left = 56;
  const bottom = 28;
  const top = 12;
  const right = 16;
  const max = Math.max(...points.map(([, value]) => value), 1);
  const step = points.length > 1 ? (WIDTH - left - right) / (points.length - 1) : 0;
  const x = (index) => left + (points.length > 1 ? index * step : (WIDTH - left - right) / 2);
  const y = (value) => top + (height - top - bottom) * (1 - value / max);
  const svg = svgEl("svg", {
    class: "report-chart line-chart",
    viewBox: `0 0 ${WIDTH} ${height}`,
    role: "img",
    "data-testid": "line-chart",
  });
  svg.append(
    svgEl("line", { class: "axis", x1: left, y1: height - bottom, x2: WIDTH - right, y2: height - bottom }),
    svgEl("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }),
    svgEl("text", { x: left - 6, y: top + 4, "text-anchor": "end" }, format(max)),
    svgEl("text", { x: left - 6, y: height - bottom, "text-anchor": "end" }, format(0)),
  );
  const path = points.map(([, value], index) => `${index ? "L" : "M"}${x(index).toFixed(1)},${y(value).toFixed(1)}`);
  svg.append(svgEl("path", { class: "line", d: path.join(" ") }));
  const every = Math.max(1, Math.ceil(points.length / 8));
  points.forEach(([label, value], index) => {
    const dot = svgEl("circle", { class: "point", cx: x(index), cy: y(value), r: 3.5 });
    dot.append(svgEl("title", {}, `${label}: ${format(value)}`));
    svg.append(dot);
    if (index % every === 0 || index === points.length - 1) {
      const anchor = points.length > 1 && index === 0 ? "start" : index === points.length - 1 && index ? "end" : "middle";
      svg.append(svgEl("text", { x: x(index), y: height - 8, "text-anchor": anchor }, label));
    }
  });
  return figure(svg, caption);
}

/** A bar of `used` against `total` (over the total in the warning colour). */
export function progressBar(used, total, label) {
  const svg = svgEl("svg", { class: "progress-bar", viewBox: "0 0 100 6", preserveAspectRatio: "none", role: "img" });
  const share = total ? used / total : 0;
  svg.append(svgEl("rect", { class: "track", x: 0, y: 0, width: 100, height: 6, rx: 1 }));
  svg.append(svgEl("rect", { class: share > 1 ? "over" : "used", x: 0, y: 0, width: Math.min(100, share * 100), height: 6, rx: 1 }));
  svg.setAttribute("aria-label", label);
  return svg;
}

function truncate(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
