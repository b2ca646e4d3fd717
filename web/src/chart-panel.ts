// Live training charts (uPlot): one per training node, loss on the left axis and reward mean (± std) on the right,
// fed by the server's training_metrics events.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TrainingMetricsData } from './protocol.js';

interface Series {
  steps: number[];
  loss: (number | null)[];
  reward: (number | null)[];
  rewardHi: (number | null)[];
  rewardLo: (number | null)[];
}

interface NodeChart {
  section: HTMLElement;
  latest: HTMLElement;
  plotHost: HTMLElement;
  plot: uPlot;
  data: Series;
  promptId: string;
  /** Reward series and axis are drawn once a reward arrives (DreamBooth has none). */
  withReward: boolean;
}

const LOSS_COLOR = '#60a5fa';
const REWARD_COLOR = '#f59e0b';

const CHART_HEIGHT = 170;

export class ChartPanel {
  private charts = new Map<string, NodeChart>();
  private readonly empty: HTMLElement;

  constructor(
    private readonly host: HTMLElement,
    private readonly titleOf: (nodeId: string) => string,
    private readonly onFocusNode: (nodeId: string) => void,
  ) {
    this.empty = document.createElement('p');
    this.empty.className = 'panel-empty';
    this.empty.textContent = 'Training nodes chart their loss and reward here while they run.';
    host.append(this.empty);
    new ResizeObserver(() => this.resize()).observe(host);
  }

  /** Points per node (for tests): how many steps each chart holds. */
  pointCounts(): Record<string, number> {
    return Object.fromEntries([...this.charts].map(([id, c]) => [id, c.data.steps.length]));
  }

  add(m: TrainingMetricsData): void {
    const id = String(m.node);
    let chart = this.charts.get(id);
    // A new run of the same node starts a fresh curve.
    if (chart && chart.promptId !== m.prompt_id) {
      chart.plot.destroy();
      chart.section.remove();
      this.charts.delete(id);
      chart = undefined;
    }
    const v = m.values;
    const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
    const loss = num(v.loss);
    const reward = num(v.reward_mean);
    const std = num(v.reward_std);
    chart ??= this.create(id, m.prompt_id, reward !== null);
    if (reward !== null && !chart.withReward) {
      chart.plot.destroy();
      chart.withReward = true;
      chart.plot = this.makePlot(chart.plotHost, true);
    }
    const d = chart.data;
    const last = d.steps.length - 1;
    if (last >= 0 && d.steps[last] === m.step) {
      // Loss per step and reward per epoch may arrive as separate events for one step.
      if (loss !== null) d.loss[last] = loss;
      if (reward !== null) {
        d.reward[last] = reward;
        d.rewardHi[last] = std !== null ? reward + std : null;
        d.rewardLo[last] = std !== null ? reward - std : null;
      }
    } else {
      d.steps.push(m.step);
      d.loss.push(loss);
      d.reward.push(reward);
      d.rewardHi.push(reward !== null && std !== null ? reward + std : null);
      d.rewardLo.push(reward !== null && std !== null ? reward - std : null);
    }
    chart.plot.setData(chart.withReward ? [d.steps, d.loss, d.reward, d.rewardHi, d.rewardLo] : [d.steps, d.loss]);
    chart.latest.replaceChildren(
      ...Object.entries(v).map(([k, x]) => {
        const span = document.createElement('span');
        span.className = `metric metric-${k}`;
        if (k === 'loss') span.style.color = LOSS_COLOR;
        if (k === 'reward_mean') span.style.color = REWARD_COLOR;
        span.textContent = `${k.replace('_mean', '')} ${formatValue(x)}`;
        return span;
      }),
    );
    const stepLabel = document.createElement('span');
    stepLabel.className = 'metric';
    stepLabel.textContent = `step ${m.step}`;
    chart.latest.prepend(stepLabel);
    chart.section.dataset.points = String(d.steps.length);
  }

  clear(): void {
    for (const c of this.charts.values()) {
      c.plot.destroy();
      c.section.remove();
    }
    this.charts.clear();
    this.empty.hidden = false;
  }

  private create(id: string, promptId: string, withReward: boolean): NodeChart {
    this.empty.hidden = true;
    const section = document.createElement('section');
    section.className = 'chart';
    section.dataset.node = id;
    const header = document.createElement('button');
    header.className = 'chart-title';
    header.type = 'button';
    header.title = 'Show the node';
    header.textContent = `#${id} ${this.titleOf(id)}`;
    header.addEventListener('click', () => this.onFocusNode(id));
    const latest = document.createElement('div');
    latest.className = 'chart-latest';
    const plotHost = document.createElement('div');
    section.append(header, latest, plotHost);
    this.host.append(section);
    const data: Series = { steps: [], loss: [], reward: [], rewardHi: [], rewardLo: [] };
    const chart: NodeChart = { section, latest, plotHost, plot: this.makePlot(plotHost, withReward), data, promptId, withReward };
    this.charts.set(id, chart);
    return chart;
  }

  /** Loss on the left axis; with rewards, reward mean (solid) and ± std (dashed) on the right. */
  private makePlot(host: HTMLElement, withReward: boolean): uPlot {
    const axis = { stroke: '#9aa4b2', grid: { stroke: '#2a2f3a', width: 1 }, ticks: { stroke: '#2a2f3a', width: 1 }, font: '11px system-ui', labelFont: '11px system-ui' };
    const series: uPlot.Series[] = [{ label: 'step' }, { label: 'loss', scale: 'loss', stroke: LOSS_COLOR, width: 2, spanGaps: true, points: { size: 4 } }];
    const axes: uPlot.Axis[] = [
      { ...axis, label: 'step', labelSize: 14, size: 28 },
      { ...axis, scale: 'loss', label: 'loss', labelSize: 14, size: 44, stroke: LOSS_COLOR },
    ];
    if (withReward) {
      const band = { scale: 'reward', stroke: 'rgba(245,158,11,0.45)', width: 1, dash: [4, 4], spanGaps: true, points: { show: false } };
      series.push({ label: 'reward', scale: 'reward', stroke: REWARD_COLOR, width: 2, spanGaps: true, points: { size: 4 } }, { ...band, label: '+std' }, { ...band, label: '−std' });
      axes.push({ ...axis, scale: 'reward', side: 1, label: 'reward', labelSize: 14, size: 44, stroke: REWARD_COLOR, grid: { show: false } });
    }
    return new uPlot(
      {
        width: this.width(),
        height: CHART_HEIGHT,
        cursor: { drag: { x: false, y: false } },
        legend: { show: false },
        scales: { x: { time: false } },
        series,
        axes,
      },
      withReward ? [[], [], [], [], []] : [[], []],
      host,
    );
  }

  private width(): number {
    return Math.max(200, this.host.clientWidth - 4);
  }

  private resize(): void {
    for (const c of this.charts.values()) c.plot.setSize({ width: this.width(), height: CHART_HEIGHT });
  }
}

function formatValue(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(2) : x.toFixed(4);
}
