import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { live, request } from './api';
import type { UsageWindow } from './gql/graphql';
import { UsageQuery, UsageSubscription } from './operations';
import { ErrorText } from './ui';

/**
 * Resource charts with uPlot (about 20 KB gzipped, canvas, no dependencies, kept up by its
 * author since 2019): history of the chosen window from the `resourceUsage` query, then each new
 * sample from the `resourceUsage` subscription appended as it arrives.
 */

const WINDOWS: { value: UsageWindow; label: string; seconds: number }[] = [
  { value: 'H1', label: '1 hour', seconds: 3600 },
  { value: 'H6', label: '6 hours', seconds: 6 * 3600 },
  { value: 'H24', label: '24 hours', seconds: 24 * 3600 },
  { value: 'D7', label: '7 days', seconds: 7 * 24 * 3600 },
];

type Point = {
  at: string;
  cpuPercent?: number | null;
  memoryPercent?: number | null;
  networkInKbps?: number | null;
  networkOutKbps?: number | null;
};

/** Columns as uPlot wants them: times in seconds, then one array per series (null: no value). */
type Columns = {
  t: number[];
  cpu: (number | null)[];
  mem: (number | null)[];
  netIn: (number | null)[];
  netOut: (number | null)[];
};

const empty = (): Columns => ({ t: [], cpu: [], mem: [], netIn: [], netOut: [] });

function push(c: Columns, p: Point) {
  c.t.push(Date.parse(p.at) / 1000);
  c.cpu.push(p.cpuPercent ?? null);
  c.mem.push(p.memoryPercent ?? null);
  c.netIn.push(p.networkInKbps ?? null);
  c.netOut.push(p.networkOutKbps ?? null);
}

/** Drops points older than the window (live samples keep it sliding). */
function trim(c: Columns, fromSeconds: number): Columns {
  const i = c.t.findIndex((t) => t >= fromSeconds);
  if (i <= 0) return c;
  return { t: c.t.slice(i), cpu: c.cpu.slice(i), mem: c.mem.slice(i), netIn: c.netIn.slice(i), netOut: c.netOut.slice(i) };
}

const lastValue = (xs: (number | null)[]) => {
  for (let i = xs.length - 1; i >= 0; i--) if (xs[i] != null) return xs[i] as number;
  return null;
};

const fmt = (v: number | null, unit: string) => (v == null ? 'no value yet' : `${v.toFixed(1)} ${unit}`);

type SeriesSpec = { label: string; color: string; values: (number | null)[] };

/** One uPlot canvas; the numbers are also given in text (canvas says nothing to screen readers). */
function Chart(props: { id: string; title: string; unit: string; t: number[]; series: SeriesSpec[]; max?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [props.t, ...props.series.map((s) => s.values)] as uPlot.AlignedData;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(280, Math.min(el.clientWidth || 640, 900));
    plot.current = new uPlot(
      {
        width,
        height: 150,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true },
          y: props.max ? { range: [0, props.max] } : { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [{}, { size: 50 }],
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true }))],
      },
      data,
      el,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  });
  const summary = props.series.map((s) => `${s.label} ${fmt(lastValue(s.values), props.unit)}`).join(', ');
  const first = props.series[0];
  return (
    <figure
      class="chart"
      data-testid={`chart-${props.id}`}
      data-points={props.t.length}
      data-latest={first ? (lastValue(first.values) ?? '') : ''}
    >
      <figcaption>
        <strong>{props.title}</strong> <span class="chart-now">now: {summary}</span>
      </figcaption>
      <div ref={box} role="img" aria-label={`${props.title} chart, ${props.t.length} points; now ${summary}`} />
    </figure>
  );
}

/** CPU, memory and network of one subject (server id, session id or `host:<name>`). */
export function UsageCharts({ subjectId, network = true }: { subjectId: string; network?: boolean }) {
  const [win, setWin] = useState<UsageWindow>('H1');
  const [cols, setCols] = useState<Columns | null>(null);
  const [error, setError] = useState<unknown>(null);
  const seconds = WINDOWS.find((w) => w.value === win)?.seconds ?? 3600;
  // History of the window; live samples newer than its last point are appended.
  useEffect(() => {
    let stale = false;
    setCols(null);
    request(UsageQuery, { subjectId, window: win }).then(
      (d) => {
        if (stale) return;
        const c = empty();
        for (const p of d.resourceUsage?.points ?? []) push(c, p);
        setCols(c);
        setError(null);
      },
      (e: unknown) => !stale && setError(e),
    );
    return () => {
      stale = true;
    };
  }, [subjectId, win]);
  useEffect(
    () =>
      live.subscribe(UsageSubscription, { subjectId }, (d) => {
        const s = d.resourceUsage.sample;
        if (!s) return;
        setCols((c) => {
          if (!c) return c;
          const at = Date.parse(s.at) / 1000;
          if (c.t.length > 0 && at <= (c.t[c.t.length - 1] ?? 0)) return c;
          const next = { t: [...c.t], cpu: [...c.cpu], mem: [...c.mem], netIn: [...c.netIn], netOut: [...c.netOut] };
          push(next, s);
          return trim(next, Date.now() / 1000 - seconds);
        });
      }),
    [subjectId, seconds],
  );
  const name = `window-${subjectId}`;
  return (
    <section class="charts" aria-label="Resource usage">
      <fieldset class="windows">
        <legend>Window</legend>
        {WINDOWS.map((w) => (
          <label key={w.value}>
            <input type="radio" name={name} value={w.value} checked={win === w.value} onChange={() => setWin(w.value)} />{' '}
            {w.label}
          </label>
        ))}
      </fieldset>
      <ErrorText error={error} />
      {!cols && !error && <p>Loading history…</p>}
      {cols && (
        <div class="chart-grid" key={win}>
          <Chart
            id="cpu"
            title="CPU"
            unit="%"
            t={cols.t}
            max={100}
            series={[{ label: 'CPU', color: '#12355b', values: cols.cpu }]}
          />
          <Chart
            id="memory"
            title="Memory"
            unit="%"
            t={cols.t}
            max={100}
            series={[{ label: 'Memory', color: '#7a3e00', values: cols.mem }]}
          />
          {network && (
            <Chart
              id="network"
              title="Network"
              unit="kbit/s"
              t={cols.t}
              series={[
                { label: 'In', color: '#006b3c', values: cols.netIn },
                { label: 'Out', color: '#8b0046', values: cols.netOut },
              ]}
            />
          )}
        </div>
      )}
    </section>
  );
}

/** A tiny line of the last values (0-100), for table rows; its value in words for screen readers. */
export function Sparkline({ label, values }: { label: string; values: number[] }) {
  const w = 60;
  const h = 16;
  const last = values.at(-1);
  const points = values
    .map((v, i) => `${values.length === 1 ? w : (i / (values.length - 1)) * w},${h - (Math.min(100, v) / 100) * h}`)
    .join(' ');
  return (
    <span class="spark" data-testid={`spark-${label.toLowerCase()}`} data-points={values.length}>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-hidden="true" focusable="false">
        {values.length > 0 && <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />}
      </svg>
      <span class="spark-value">{last == null ? '—' : `${Math.round(last)}%`}</span>
      <span class="sr-only"> {label}</span>
    </span>
  );
}
