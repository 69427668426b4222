// The overview's hourly chart, drawn as SVG through JSX: no chart library, nothing inline that
// the Content-Security-Policy would refuse (colours come from styles.css classes).
import type { Bucket } from '../overview';

const kWidth = 720;
const kHeight = 200;
const kPadLeft = 36;
const kPadBottom = 22;
const kPadTop = 8;

function hourLabel(startMs: number): string {
  return `${new Date(startMs).toISOString().slice(11, 13)}:00`;
}

// A round top for the axis, so the gridline labels are whole numbers.
function niceMaximum(value: number): number {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

export function BarChart({ buckets }: { buckets: Bucket[] }) {
  const maximum = niceMaximum(Math.max(0, ...buckets.map((bucket) => bucket.commands)));
  const plotHeight = kHeight - kPadBottom - kPadTop;
  const slot = (kWidth - kPadLeft) / Math.max(1, buckets.length);
  const barWidth = Math.max(2, slot * 0.7);
  const y = (count: number) => kPadTop + plotHeight - (count / maximum) * plotHeight;
  const height = (count: number) => (count / maximum) * plotHeight;
  const gridlines = [0, 0.5, 1].map((fraction) => Math.round(maximum * fraction));

  return (
    <svg
      class="bar-chart"
      viewBox={`0 0 ${kWidth} ${kHeight}`}
      role="img"
      aria-label="Commands, refusals and holds per hour over the last 24 hours"
    >
      {gridlines.map((value) => (
        <g key={value}>
          <line class="grid-line" x1={kPadLeft} x2={kWidth} y1={y(value)} y2={y(value)} />
          <text class="axis-label" x={kPadLeft - 4} y={y(value) + 4} text-anchor="end">
            {value}
          </text>
        </g>
      ))}
      {buckets.map((bucket, index) => {
        const x = kPadLeft + index * slot + (slot - barWidth) / 2;
        const allowedOther = bucket.commands - bucket.refusals - bucket.holds;
        return (
          <g key={bucket.startMs}>
            <title>
              {`${hourLabel(bucket.startMs)} UTC: ${bucket.commands} commands, ${bucket.refusals} refused, ${bucket.holds} held`}
            </title>
            <rect class="bar-commands" x={x} width={barWidth} y={y(bucket.commands)} height={height(allowedOther)} />
            <rect
              class="bar-holds"
              x={x}
              width={barWidth}
              y={y(bucket.refusals + bucket.holds)}
              height={height(bucket.holds)}
            />
            <rect class="bar-refusals" x={x} width={barWidth} y={y(bucket.refusals)} height={height(bucket.refusals)} />
            {index % 6 === 0 && (
              <text class="axis-label" x={x + barWidth / 2} y={kHeight - 6} text-anchor="middle">
                {hourLabel(bucket.startMs)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
