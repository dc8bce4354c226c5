import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { SeriesPoint } from './api.js';

const SHADE = 'rgba(220, 38, 38, 0.16)';
const MARK = '#b91c1c';

export interface Span {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive; open spans run to the chart's end. */
  to?: number;
  label?: string;
}

/**
 * Per-minute values against the expected range (a band from lower to upper), the baseline average
 * as a line, and insight spans shaded with their Start and End marked. The container carries
 * `data-points`, `data-draw-ms` (construction to first draw) and `data-shade` (the first span in
 * canvas pixels) so tests and measurements read what was drawn.
 */
export function SeriesChart({
  points,
  spans,
  height = 320,
}: {
  points: SeriesPoint[];
  spans: Span[];
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const xs = new Float64Array(points.length);
    // null where the model is absent: uPlot leaves a gap there.
    const values = new Array<number>(points.length);
    const lower = new Array<number | null>(points.length);
    const upper = new Array<number | null>(points.length);
    const baseline = new Array<number | null>(points.length);
    points.forEach((point, i) => {
      xs[i] = Date.parse(point.minute) / 1000;
      values[i] = point.value;
      lower[i] = point.lower ?? null;
      upper[i] = point.upper ?? null;
      baseline[i] = point.baselineAverage ?? null;
    });
    const started = performance.now();
    const shadeSpans = (u: uPlot) => {
      const { ctx } = u;
      const top = u.bbox.top;
      const bottom = u.bbox.top + u.bbox.height;
      const end = u.bbox.left + u.bbox.width;
      const drawn: string[] = [];
      ctx.save();
      for (const span of spans) {
        const x0 = Math.max(u.bbox.left, u.valToPos(span.from / 1000, 'x', true));
        const x1 = span.to === undefined ? end : Math.min(end, u.valToPos(span.to / 1000, 'x', true));
        if (x1 <= x0) continue;
        ctx.fillStyle = SHADE;
        ctx.fillRect(x0, top, x1 - x0, bottom - top);
        ctx.strokeStyle = MARK;
        ctx.lineWidth = 1;
        ctx.setLineDash([4, 3]);
        for (const x of span.to === undefined ? [x0] : [x0, x1]) {
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, bottom);
          ctx.stroke();
        }
        // Labels at the foot of the plot: the shade's top stays one colour, so it can be checked.
        ctx.fillStyle = MARK;
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        ctx.fillText(span.label ?? 'Start', x0 + 3, bottom - 4 * devicePixelRatio);
        if (span.to !== undefined) ctx.fillText('End', x1 + 3, bottom - 4 * devicePixelRatio);
        drawn.push(`${Math.round(x0)},${Math.round(x1)},${Math.round(top)}`);
      }
      ctx.restore();
      element.dataset.shade = drawn[0] ?? '';
    };
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height,
        // One more minute on the right: the last minute (often an open insight's first) gets a width.
        scales: { x: { time: true, range: (_u, min, max) => [min, max + 60] } },
        series: [
          { label: 'minute' },
          { label: 'calls', stroke: '#1d4ed8', width: 1.5 },
          { label: 'lower', stroke: 'rgba(22, 163, 74, 0.5)', width: 0.5 },
          { label: 'upper', stroke: 'rgba(22, 163, 74, 0.5)', width: 0.5 },
          { label: 'baseline avg', stroke: '#6b7280', width: 1, dash: [6, 4] },
        ],
        bands: [{ series: [3, 2], fill: 'rgba(22, 163, 74, 0.12)' }],
        hooks: {
          drawClear: [shadeSpans],
          draw: [
            () => {
              if (!element.dataset.drawMs) element.dataset.drawMs = (performance.now() - started).toFixed(1);
            },
          ],
        },
        legend: { live: true },
      },
      [Array.from(xs), values, lower, upper, baseline],
      element,
    );
    element.dataset.points = String(points.length);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(320, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
      delete element.dataset.drawMs;
    };
  }, [points, spans, height]);
  return <div class="chart" ref={box} role="img" aria-label="Calls per minute against the expected range" />;
}

/** A small inline SVG of recent values: no canvas per row. */
export function Sparkline({ values, width = 120, height = 28 }: { values: number[]; width?: number; height?: number }) {
  if (values.length < 2) return <span class="muted">no data</span>;
  const max = Math.max(...values, 1);
  const step = width / (values.length - 1);
  const line = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
      <polyline points={line.join(' ')} fill="none" stroke="#1d4ed8" stroke-width="1.2" />
    </svg>
  );
}
