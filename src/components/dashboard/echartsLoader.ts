/**
 * ECharts, loaded on first use and only the parts the dashboard draws (pie, bar, line; grid, tooltip, legend; the SVG
 * renderer, which stays sharp on phones and needs no canvas), so none of it reaches the initial bundle.
 */
import type { EChartsCoreOption } from 'echarts/core'

export interface ChartHandle {
  setOption(option: EChartsCoreOption, notMerge?: boolean): void
  resize(): void
  dispose(): void
}

export type InitChart = (element: HTMLElement) => ChartHandle

let loading: Promise<InitChart> | null = null

export function loadECharts(): Promise<InitChart> {
  loading ??= import('./echartsParts.ts').then(
    ({ init }) =>
      (element: HTMLElement) =>
        init(element, undefined, { renderer: 'svg' }),
  )
  // A failed load (offline before the chunk was cached) may be retried on the next visit.
  loading.catch(() => {
    loading = null
  })
  return loading
}
